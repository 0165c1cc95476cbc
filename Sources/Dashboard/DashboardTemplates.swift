import Mustache

/// The dashboard's pages as Mustache templates, compiled once at start. `{{name}}` is always
/// HTML-escaped by swift-mustache (`& < > " '`); `{{{name}}}` is used only for markup the
/// dashboard built itself (the page inside the layout, the chart). Kept in the binary, so a
/// single `tern` file serves the dashboard.
enum DashboardTemplates {
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Tern</title>
        <link rel="stylesheet" href="/dashboard/style.css">
        </head>
        <body>
        <header class="top">
        <a class="brand" href="/dashboard">Tern</a>
        {{#session}}
        <nav aria-label="Main">
        <ul>
        <li><a href="/dashboard"{{#overview}} aria-current="page"{{/overview}}>Overview</a></li>
        <li><a href="/dashboard/activity"{{#activity}} aria-current="page"{{/activity}}>Activity</a></li>
        <li><a href="/dashboard/keys"{{#keys}} aria-current="page"{{/keys}}>API keys</a></li>
        <li><a href="/dashboard/webhooks"{{#webhooks}} aria-current="page"{{/webhooks}}>Webhooks</a></li>
        <li><a href="/dashboard/suppressions"{{#suppressions}} aria-current="page"{{/suppressions}}>Suppressions</a></li>
        <li><a href="/dashboard/sandbox"{{#sandbox}} aria-current="page"{{/sandbox}}>Sandbox</a></li>
        <li><a href="/dashboard/domains"{{#domains}} aria-current="page"{{/domains}}>Domains</a></li>
        {{#isOperator}}
        <li><a href="/dashboard/queue"{{#queue}} aria-current="page"{{/queue}}>Queue</a></li>
        <li><a href="/dashboard/users"{{#users}} aria-current="page"{{/users}}>Users</a></li>
        <li><a href="/dashboard/health"{{#health}} aria-current="page"{{/health}}>Health</a></li>
        {{/isOperator}}
        </ul>
        </nav>
        <form class="logout" method="post" action="/dashboard/logout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span class="who">{{user}}{{#isOperator}} (operator){{/isOperator}}</span>
        <button type="submit">Log out</button>
        </form>
        {{/session}}
        </header>
        <main id="main">
        {{{content}}}
        </main>
        </body>
        </html>
        """

    static let login = """
        <h1>Log in</h1>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/dashboard/login" class="stacked">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="email">Address</label>
        <input id="email" name="email" type="email" autocomplete="username" required value="{{email}}">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <button type="submit">Log in</button>
        </form>
        """

    static let overview = """
        <h1>Overview</h1>
        <section aria-labelledby="limits">
        <h2 id="limits">Sending against your plan ({{plan}})</h2>
        <div class="scroll"><table class="limits">
        <thead><tr><th scope="col">Limit</th><th scope="col">Used</th><th scope="col">Allowed</th><th scope="col">Resets</th></tr></thead>
        <tbody>
        {{#limits}}<tr><th scope="row">{{name}}</th><td>{{used}}</td><td>{{limit}}</td><td><time datetime="{{resets}}">{{resets}}</time></td></tr>{{/limits}}
        {{^limits}}<tr><td colspan="4">Your plan sets no sending limits.</td></tr>{{/limits}}
        </tbody>
        </table></div>
        <p>Requests today: <strong class="today">{{today}}</strong>. This month: <strong class="month">{{month}}</strong>.</p>
        </section>
        <section aria-labelledby="rates">
        <h2 id="rates">Last 30 days</h2>
        <dl class="rates">
        <dt>Delivery rate</dt><dd>{{deliveryRate}}</dd>
        <dt>Bounce rate</dt><dd>{{bounceRate}}</dd>
        <dt>Open rate</dt><dd>{{openRate}}</dd>
        </dl>
        <figure>
        {{{chart}}}
        <figcaption>
        <ul class="legend">{{#legend}}<li><span class="swatch {{style}}"></span>{{name}}</li>{{/legend}}</ul>
        </figcaption>
        </figure>
        <details><summary>The numbers</summary>{{{chartTable}}}</details>
        </section>
        {{#queue}}
        <section aria-labelledby="queue">
        <h2 id="queue">Queue (all accounts)</h2>
        <div class="scroll"><table class="queue-depth"><thead><tr><th scope="col">State</th><th scope="col">Recipients</th></tr></thead>
        <tbody>{{#states}}<tr><th scope="row">{{state}}</th><td>{{count}}</td></tr>{{/states}}</tbody></table></div>
        </section>
        {{/queue}}
        """

    static let activity = """
        <h1>Activity</h1>
        <form method="get" action="/dashboard/activity" class="search" role="search">
        <label>To <input name="to" type="text" value="{{to}}"></label>
        <label>From <input name="from" type="text" value="{{from}}"></label>
        <label>Subject <input name="subject" type="text" value="{{subject}}"></label>
        <label>Category <input name="category" type="text" value="{{category}}"></label>
        <label>Since <input name="since" type="date" value="{{since}}"></label>
        <label>Until <input name="until" type="date" value="{{until}}"></label>
        <label>Status <select name="status">
        {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}
        </select></label>
        <button type="submit">Search</button>
        </form>
        <div class="scroll"><table class="messages">
        <thead><tr><th scope="col">Time</th><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Opens</th><th scope="col">Clicks</th></tr></thead>
        <tbody>
        {{#rows}}<tr><td><time datetime="{{time}}">{{time}}</time></td><td><a href="/dashboard/messages/{{id}}">{{to}}</a></td><td>{{subject}}</td><td><span class="status {{status}}">{{status}}</span>{{#sandbox}} <span class="tag">sandbox</span>{{/sandbox}}</td><td>{{opens}}</td><td>{{clicks}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="6">No messages match.</td></tr>{{/rows}}
        </tbody>
        </table></div>
        <nav class="pages" aria-label="Pages">
        {{#previous}}<a rel="prev" href="{{previous}}">Newer</a>{{/previous}}
        {{#next}}<a rel="next" href="{{next}}">Older</a>{{/next}}
        </nav>
        """

    static let message = """
        <h1>Message to {{to}}</h1>
        <dl class="facts">
        <dt>Status</dt><dd><span class="status {{status}}">{{status}}</span></dd>
        <dt>From</dt><dd>{{from}}</dd>
        <dt>Subject</dt><dd>{{subject}}</dd>
        <dt>Message-ID</dt><dd>{{messageID}}</dd>
        <dt>Queue id</dt><dd>{{queueID}}</dd>
        <dt>sg_message_id</dt><dd>{{sgMessageID}}</dd>
        <dt>Accepted</dt><dd><time datetime="{{created}}">{{created}}</time></dd>
        {{#categories}}<dt>Categories</dt><dd>{{categories}}</dd>{{/categories}}
        </dl>
        <h2>Timeline</h2>
        <ol class="timeline">
        {{#events}}<li><time datetime="{{time}}">{{time}}</time> <span class="status {{type}}">{{type}}</span>{{#host}} via {{host}}{{/host}}{{#tls}} ({{tls}}){{/tls}}{{#reply}}<br><code>{{reply}}</code>{{/reply}}</li>{{/events}}
        </ol>
        {{#authentication}}<h2>Authentication results</h2><ul class="auth">{{#results}}<li><code>{{.}}</code></li>{{/results}}</ul>{{/authentication}}
        <h2>Headers</h2>
        {{#headerOnly}}<p>The body was deleted at <time datetime="{{headerOnly}}">{{headerOnly}}</time>, once every recipient had the message; Tern keeps only its header, so there is no raw source to show.</p>{{/headerOnly}}
        {{#headers}}<pre class="source">{{headers}}</pre>{{/headers}}
        {{^headers}}<p>The content is no longer kept: Tern deletes a message's content once every recipient has it.</p>{{/headers}}
        {{#source}}<h2>Raw source</h2><details><summary>Show the raw source</summary><pre class="source">{{source}}</pre></details>{{/source}}
        """

    static let keys = """
        <h1>API keys</h1>
        {{#created}}
        <div class="notice" role="status">
        <p>New key <strong>{{name}}</strong>. Copy it now: it is shown only once.</p>
        <p><code class="secret">{{secret}}</code></p>
        </div>
        {{/created}}
        <div class="scroll"><table class="keys">
        <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Scopes</th><th scope="col">Sandbox</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
        {{#keys}}<tr><td>{{name}}</td><td><code>{{id}}</code></td><td>{{scopes}}</td><td>{{sandbox}}</td><td><time datetime="{{created}}">{{created}}</time></td><td>{{lastUsed}}</td><td>{{status}}</td><td>{{#live}}<form method="post" action="/dashboard/keys/{{id}}/revoke"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Revoke {{name}}">Revoke</button></form>{{/live}}</td></tr>{{/keys}}
        {{^keys}}<tr><td colspan="8">No keys yet.</td></tr>{{/keys}}
        </tbody>
        </table></div>
        <h2>Create a key</h2>
        <form method="post" action="/dashboard/keys" class="stacked">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="name">Name</label>
        <input id="name" name="name" type="text" maxlength="100" required>
        <label for="scope">Access</label>
        <select id="scope" name="scope"><option value="full">Full access</option><option value="mail.send">Send mail only</option></select>
        <label class="check"><input type="checkbox" name="sandbox" value="on"> Sandbox: mail is kept in the sandbox inbox, never sent</label>
        <button type="submit">Create key</button>
        </form>
        """

    static let suppressions = """
        <h1>Suppressions</h1>
        <form method="get" action="/dashboard/suppressions" class="search" role="search">
        <label>List <select name="list">
        {{#lists}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/lists}}
        </select></label>
        <label>Address contains <input name="q" type="text" value="{{q}}"></label>
        <button type="submit">Show</button>
        </form>
        <div class="scroll"><table class="suppressions">
        <thead><tr><th scope="col">Address</th><th scope="col">Since</th><th scope="col">Reason</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
        {{#entries}}<tr><td>{{email}}</td><td><time datetime="{{created}}">{{created}}</time></td><td>{{reason}}</td><td><form method="post" action="/dashboard/suppressions/remove"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="list" value="{{list}}"><input type="hidden" name="email" value="{{email}}"><button type="submit" aria-label="Remove {{email}}">Remove</button></form></td></tr>{{/entries}}
        {{^entries}}<tr><td colspan="4">No addresses on this list{{#q}} match{{/q}}.</td></tr>{{/entries}}
        </tbody>
        </table></div>
        {{#more}}<p>Showing the first {{shown}} of {{total}}; narrow the search to see the rest.</p>{{/more}}
        """

    static let sandbox = """
        <h1>Sandbox inbox</h1>
        <p>Mail sent with a sandbox key, or by a sandbox account, is kept here and never sent (the newest {{size}}).</p>
        <div class="scroll"><table class="sandbox">
        <thead><tr><th scope="col">Time</th><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Size</th></tr></thead>
        <tbody>
        {{#messages}}<tr><td><time datetime="{{time}}">{{time}}</time></td><td>{{to}}</td><td><a href="/dashboard/sandbox/{{id}}">{{subject}}</a></td><td>{{size}}</td></tr>{{/messages}}
        {{^messages}}<tr><td colspan="4">Nothing captured yet.</td></tr>{{/messages}}
        </tbody>
        </table></div>
        """

    static let sandboxMessage = """
        <h1>{{subject}}</h1>
        <dl class="facts">
        <dt>From</dt><dd>{{from}}</dd>
        <dt>To</dt><dd>{{to}}</dd>
        <dt>Captured</dt><dd><time datetime="{{time}}">{{time}}</time></dd>
        <dt>Queue id</dt><dd>{{id}}</dd>
        </dl>
        {{#html}}
        <h2>HTML</h2>
        <p class="tag">Shown in a sandboxed frame: no script runs and nothing loads from elsewhere.</p>
        <iframe class="mail" sandbox src="/dashboard/sandbox/{{id}}/html" title="The message's HTML part"></iframe>
        {{/html}}
        {{#text}}<h2>Text</h2><pre class="source">{{text}}</pre>{{/text}}
        {{#authentication}}<h2>Authentication results</h2><ul class="auth">{{#results}}<li><code>{{.}}</code></li>{{/results}}</ul>{{/authentication}}
        <h2>Headers</h2>
        <pre class="source">{{headers}}</pre>
        <details><summary>Raw source</summary><pre class="source">{{source}}</pre></details>
        """

    static let queue = """
        <h1>Queue</h1>
        <p>Recipients waiting for delivery, over every account, the soonest due first{{#more}} (the first {{shown}}){{/more}}.</p>
        <div class="scroll"><table class="queue">
        <thead><tr><th scope="col">Message</th><th scope="col">From</th><th scope="col">To</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Next attempt</th><th scope="col">Last reply</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
        {{#rows}}<tr><td><code>{{id}}</code>{{#account}}<br><span class="tag">{{account}}</span>{{/account}}</td><td>{{from}}</td><td>{{to}}</td><td><span class="status {{state}}">{{state}}</span></td><td>{{attempts}}</td><td>{{next}}</td><td>{{reply}}</td>
        <td class="actions"><form method="post" action="/dashboard/queue/{{id}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Retry {{id}} now">Retry now</button></form>
        <form method="post" action="/dashboard/queue/{{id}}/remove"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Remove {{id}}">Remove</button></form></td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="8">Nothing is waiting.</td></tr>{{/rows}}
        </tbody>
        </table></div>
        """

    static let users = """
        <h1>Users and mailboxes</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        <div class="scroll"><table class="users">
        <thead><tr><th scope="col">Address</th><th scope="col">Plan</th><th scope="col">Mailbox</th><th scope="col">Operator</th><th scope="col">Created</th></tr></thead>
        <tbody>
        {{#rows}}<tr><td>{{address}}</td>
        <td><form method="post" action="/dashboard/users/plan" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="address" value="{{address}}"><label class="visually-hidden" for="plan-{{index}}">Plan of {{address}}</label><select id="plan-{{index}}" name="plan">{{#plans}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/plans}}</select> <button type="submit" aria-label="Set the plan of {{address}}">Set</button></form></td>
        <td>{{used}}{{#quota}} of {{quota}}{{/quota}}<form method="post" action="/dashboard/users/quota" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="address" value="{{address}}"><label class="visually-hidden" for="quota-{{index}}">Quota of {{address}} in MiB (0: none)</label><input id="quota-{{index}}" name="mib" type="number" min="0" max="1048576" value="{{quotaMiB}}" size="6"> MiB <button type="submit" aria-label="Set the quota of {{address}}">Set</button></form></td>
        <td>{{#isOperator}}yes{{/isOperator}}{{^isOperator}}no{{/isOperator}}<form method="post" action="/dashboard/users/operator" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="address" value="{{address}}"><input type="hidden" name="operator" value="{{#isOperator}}off{{/isOperator}}{{^isOperator}}on{{/isOperator}}"><button type="submit" aria-label="{{#isOperator}}Remove the operator role of{{/isOperator}}{{^isOperator}}Make an operator of{{/isOperator}} {{address}}">{{#isOperator}}Remove role{{/isOperator}}{{^isOperator}}Make operator{{/isOperator}}</button></form></td>
        <td><time datetime="{{created}}">{{created}}</time></td></tr>{{/rows}}
        </tbody>
        </table></div>
        <h2>Add a user</h2>
        <form method="post" action="/dashboard/users" class="stacked">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="new-address">Address</label>
        <input id="new-address" name="address" type="email" required>
        <label for="new-password">Password</label>
        <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="8">
        <label for="new-plan">Plan</label>
        <select id="new-plan" name="plan">{{#planNames}}<option value="{{.}}">{{.}}</option>{{/planNames}}</select>
        <label class="check"><input type="checkbox" name="operator" value="on"> Operator</label>
        <button type="submit">Add user</button>
        </form>
        """

    static let domains = """
        <h1>Domains</h1>
        <ul class="domains">{{#domains}}<li><a href="/dashboard/domains/{{name}}">{{name}}</a></li>{{/domains}}</ul>
        {{^domains}}<p>No hosted domain here.</p>{{/domains}}
        """

    static let domain = """
        <h1>{{name}}</h1>
        <h2>Records to publish</h2>
        <div class="scroll"><table class="records">
        <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Copy</span></th></tr></thead>
        <tbody>
        {{#records}}<tr><td><code>{{name}}</code></td><td>{{type}}</td><td><code class="value">{{value}}</code>{{#note}}<br><span class="tag">{{note}}</span>{{/note}}</td><td><button type="button" data-copy="{{value}}" aria-label="Copy the {{type}} value of {{name}}">Copy</button></td></tr>{{/records}}
        </tbody>
        </table></div>
        <h2>What is published</h2>
        {{#findings}}
        <div class="scroll"><table class="findings">
        <thead><tr><th scope="col">Record</th><th scope="col">Status</th><th scope="col">What DNS says, and what to do</th></tr></thead>
        <tbody>{{#rows}}<tr><th scope="row">{{record}}</th><td><span class="status {{#ok}}delivered{{/ok}}{{^ok}}bounced{{/ok}}">{{#ok}}ok{{/ok}}{{^ok}}fix{{/ok}}</span></td><td>{{detail}}</td></tr>{{/rows}}</tbody>
        </table></div>
        {{/findings}}
        <form method="get" action="/dashboard/domains/{{name}}"><input type="hidden" name="check" value="1"><button type="submit">Check DNS now</button></form>
        <h2>DKIM keys</h2>
        <div class="scroll"><table class="dkim">
        <thead><tr><th scope="col">Selector</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th></tr></thead>
        <tbody>{{#keys}}<tr><td><code>{{selector}}</code></td><td>{{algorithm}}</td><td>{{state}}</td><td><time datetime="{{created}}">{{created}}</time></td></tr>{{/keys}}</tbody>
        </table></div>
        {{#isOperator}}
        <form method="post" action="/dashboard/domains/{{name}}/rotate">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p>Rotating makes a new key that signs from now on; the old one stays published as retired until you remove it, so mail in transit still verifies. Publish the new selector's record first.</p>
        <button type="submit">Rotate the DKIM key</button>
        </form>
        {{/isOperator}}
        <script src="/dashboard/copy.js"></script>
        """

    /// The only script of the dashboard: copy buttons. Pages without one do not load it, and
    /// the domain page's CSP allows scripts from the dashboard itself only.
    static let copyScript = """
        document.addEventListener('click', function (event) {
          var button = event.target.closest('button[data-copy]');
          if (!button || !navigator.clipboard) return;
          navigator.clipboard.writeText(button.getAttribute('data-copy')).then(function () { button.textContent = 'Copied'; });
        });
        """

    static let health = """
        <h1>Server health</h1>
        <p>This node, {{hostname}}, checked <time datetime="{{checked}}">{{checked}}</time>.</p>
        {{#healthy}}<p class="notice" role="status">Nothing needs attention.</p>{{/healthy}}
        {{^healthy}}<ul class="warnings" role="status">{{#warnings}}<li class="error">{{.}}</li>{{/warnings}}</ul>{{/healthy}}
        <h2>Process</h2>
        <dl class="facts"><dt>Started</dt><dd><time datetime="{{started}}">{{started}}</time> (up {{uptime}})</dd><dt>Memory</dt><dd>{{memory}} resident</dd><dt>TLS certificate</dt><dd>{{certificate}}</dd></dl>
        <h2>Listeners</h2>
        <div class="scroll"><table class="listeners"><thead><tr><th scope="col">Service</th><th scope="col">Address</th><th scope="col">TLS</th></tr></thead>
        <tbody>{{#listeners}}<tr><td>{{service}}</td><td><code>{{address}}</code></td><td>{{tls}}</td></tr>{{/listeners}}</tbody></table></div>
        <h2>Store</h2>
        <dl class="facts"><dt>Database</dt><dd><code class="value">{{storePath}}</code></dd><dt>Size</dt><dd>{{storeSize}}</dd><dt>Disk</dt><dd>{{disk}}</dd></dl>
        <h2>Queue</h2>
        <div class="scroll"><table class="queue-depth"><thead><tr><th scope="col">State</th><th scope="col">Recipients</th></tr></thead>
        <tbody>{{#queue}}<tr><td>{{state}}</td><td>{{count}}</td></tr>{{/queue}}</tbody></table></div>
        <dl class="facts"><dt>Most overdue</dt><dd>{{oldestDue}}</dd><dt>Webhook backlog</dt><dd>{{webhookBacklog}} events</dd></dl>
        <p><a href="/dashboard/queue">The queue</a>. For monitoring, Prometheus metrics are at <code>/metrics</code> when <code>[http] metrics</code> is on.</p>
        """

    static let problem = """
        <h1>{{title}}</h1>
        <p>{{text}}</p>
        <p><a href="/dashboard">Back to the overview</a></p>
        """

    static let stylesheet = """
        :root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0a5fb4; --bad: #b42318; --good: #1a7f37; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--ink); background: #fff; }
        .top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
        nav ul { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; margin: 0; padding: 0; }
        nav a[aria-current] { font-weight: 700; }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus { outline: 3px solid #ffbf47; outline-offset: 1px; }
        .logout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
        main { padding: 1rem; max-width: 72rem; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
        .stacked { display: grid; gap: .4rem; max-width: 24rem; }
        .search { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; }
        input, select, button { font: inherit; padding: .3rem .5rem; }
        button { cursor: pointer; }
        .error { color: var(--bad); font-weight: 600; }
        .notice { border: 2px solid var(--good); padding: .5rem 1rem; margin: 1rem 0; }
        .secret { font-size: 1.05rem; overflow-wrap: break-word; }
        .status { padding: 0 .3rem; border-radius: .2rem; background: #eef1f4; }
        .status.delivered { background: #dafbe1; } .status.bounced, .status.dropped { background: #ffebe9; } .status.deferred { background: #fff8c5; }
        .tag { font-size: .85rem; color: var(--muted); }
        .source { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; padding: .5rem; max-height: 40rem; overflow: auto; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        .facts dd, .rates dd { margin: 0; }
        .rates { display: grid; grid-template-columns: max-content max-content; gap: .2rem 1rem; }
        .timeline li { margin-bottom: .5rem; }
        .chart { width: 100%; height: auto; max-width: 48rem; }
        .chart .axis { stroke: var(--muted); } .chart .label { font-size: 11px; fill: var(--muted); } .chart .label.end { text-anchor: end; }
        .line { fill: none; stroke-width: 2; }
        .s0 { stroke: #0a5fb4; background: #0a5fb4; } .s1 { stroke: #1a7f37; background: #1a7f37; } .s2 { stroke: #b42318; background: #b42318; }
        .s3 { stroke: #9a6700; background: #9a6700; } .s4 { stroke: #8250df; background: #8250df; } .s5 { stroke: #bf3989; background: #bf3989; }
        .legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; list-style: none; padding: 0; }
        .swatch { display: inline-block; width: .9rem; height: .9rem; margin-right: .3rem; vertical-align: -.1rem; }
        .pages { display: flex; gap: 1rem; }
        code.value { overflow-wrap: anywhere; }
        input[type=number] { width: 6rem; }
        form.inline { display: inline-flex; gap: .3rem; align-items: center; margin: .2rem 0; }
        td.actions form { display: inline-block; margin: 0 .2rem .2rem 0; }
        iframe.mail { width: 100%; height: 28rem; border: 1px solid var(--line); background: #fff; }
        fieldset { border: 1px solid var(--line); }
        label.check { display: inline-block; margin-right: .8rem; }
        .scroll { overflow-x: auto; max-width: 100%; position: relative; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        @media (max-width: 40rem) { table.messages th:nth-child(5), table.messages td:nth-child(5), table.messages th:nth-child(6), table.messages td:nth-child(6) { display: none; } }
        """

    /// Every template, compiled; a template that does not parse stops the server at start.
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("login", login), ("overview", overview), ("activity", activity), ("message", message), ("keys", keys),
            ("suppressions", suppressions), ("sandbox", sandbox), ("sandboxMessage", sandboxMessage), ("queue", queue), ("users", users),
            ("domains", domains), ("domain", domain), ("webhooks", webhooks), ("webhook", webhook), ("health", health),
            ("problem", problem),
        ] {
            try library.register(text, named: name)
        }
        return library
    }
}
