/// The webhooks pages' templates (split from DashboardTemplates.swift by page).
extension DashboardTemplates {
    static let webhooks = """
        <h1>Webhooks</h1>
        <p>Your events are posted to these URLs as JSON arrays in SendGrid's event format, batched, and retried with doubling delays for a day while the receiver does not answer 2xx.</p>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        <div class="scroll"><table class="webhooks">
        <thead><tr><th scope="col">Webhook</th><th scope="col">Events</th><th scope="col">Signed</th><th scope="col">State</th></tr></thead>
        <tbody>
        {{#webhooks}}<tr><td><a href="/dashboard/webhooks/{{id}}">{{#name}}{{name}}{{/name}}{{^name}}{{url}}{{/name}}</a>{{#name}}<br><span class="tag">{{url}}</span>{{/name}}</td><td>{{events}}</td><td>{{#signed}}yes{{/signed}}{{^signed}}no{{/signed}}</td><td>{{health}}</td></tr>{{/webhooks}}
        {{^webhooks}}<tr><td colspan="4">No webhooks yet.</td></tr>{{/webhooks}}
        </tbody>
        </table></div>
        {{#canAdd}}
        <h2>Add a webhook</h2>
        <form method="post" action="/dashboard/webhooks" class="stacked">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="url">URL</label>
        <input id="url" name="url" type="url" maxlength="2048" required placeholder="https://example.com/events">
        <label for="name">Name (optional)</label>
        <input id="name" name="name" type="text" maxlength="100">
        <fieldset><legend>Events to post</legend>
        {{#events}}<label class="check"><input type="checkbox" name="event" value="{{name}}"{{#on}} checked{{/on}}> {{label}}</label> {{/events}}
        </fieldset>
        <button type="submit">Add webhook</button>
        </form>
        {{/canAdd}}
        {{^canAdd}}<p>An account has at most {{maximum}} webhooks; remove one to add another.</p>{{/canAdd}}
        """

    static let webhook = """
        <h1>Webhook {{name}}</h1>
        <p><a href="/dashboard/webhooks">All webhooks</a></p>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        <dl class="facts"><dt>URL</dt><dd><code class="value">{{url}}</code></dd><dt>Id</dt><dd><code>{{id}}</code></dd><dt>State</dt><dd>{{health}}</dd></dl>
        <form method="post" action="/dashboard/webhooks/{{id}}/test" class="inline">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Send a test event</button>
        </form>
        <h2>Recent deliveries</h2>
        <div class="scroll"><table class="attempts">
        <thead><tr><th scope="col">Time</th><th scope="col">What</th><th scope="col">Events</th><th scope="col">HTTP status</th><th scope="col">Outcome</th><th scope="col">Try</th><th scope="col">Took</th></tr></thead>
        <tbody>
        {{#attempts}}<tr><td><time datetime="{{time}}">{{time}}</time></td><td>{{kind}}</td><td>{{events}}</td><td><span class="status {{#good}}delivered{{/good}}{{^good}}bounced{{/good}}">{{status}}</span>{{#error}}<br><span class="tag">{{error}}</span>{{/error}}</td><td>{{outcome}}</td><td>{{retry}}</td><td>{{ms}} ms</td></tr>{{/attempts}}
        {{^attempts}}<tr><td colspan="7">Nothing posted yet.</td></tr>{{/attempts}}
        </tbody>
        </table></div>
        <h2>Settings</h2>
        <form method="post" action="/dashboard/webhooks/{{id}}/settings" class="stacked">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="url">URL</label>
        <input id="url" name="url" type="url" maxlength="2048" required value="{{url}}">
        <label for="name">Name</label>
        <input id="name" name="name" type="text" maxlength="100" value="{{name}}">
        <label class="check"><input type="checkbox" name="enabled" value="on"{{#enabled}} checked{{/enabled}}> Enabled</label>
        <fieldset><legend>Events to post</legend>
        {{#events}}<label class="check"><input type="checkbox" name="event" value="{{name}}"{{#on}} checked{{/on}}> {{label}}</label> {{/events}}
        </fieldset>
        <button type="submit">Save settings</button>
        </form>
        <h2>Signing</h2>
        {{#publicKey}}
        <p>Posts carry an ECDSA signature in <code>X-Twilio-Email-Event-Webhook-Signature</code>; verify it with this public key:</p>
        <p><code class="value">{{publicKey}}</code></p>
        <form method="post" action="/dashboard/webhooks/{{id}}/signing" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="enabled" value="on"><button type="submit">Replace the key</button></form>
        <form method="post" action="/dashboard/webhooks/{{id}}/signing" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Turn signing off</button></form>
        {{/publicKey}}
        {{^publicKey}}
        <p>Posts are not signed.</p>
        <form method="post" action="/dashboard/webhooks/{{id}}/signing" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="enabled" value="on"><button type="submit">Turn signing on</button></form>
        {{/publicKey}}
        <h2>Remove</h2>
        <form method="post" action="/dashboard/webhooks/{{id}}/remove" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Remove this webhook</button></form>
        """
}
