import Foundation
import Testing

@testable import SendGridProtocol

/// Dynamic templates rendered with Handlebars semantics as SendGrid documents them: escaping,
/// nesting, each/if/unless/equals, missing values, and errors that name the line.
@Suite struct DynamicTemplateTests {
    static let data: JSONValue = {
        let json = """
            {"name": "Ada <Lovelace>", "html": "<b>hi</b>", "count": 0, "total": 2.5, "whole": 3.0, "vip": true,
             "empty": "", "none": null, "tags": [], "code": "USD", "limit": 10,
             "user": {"profile": {"first": "Ada"}, "orders": [{"id": 7, "items": ["a", "b"]}, {"id": 8, "items": []}]},
             "list": ["x", "y", "z"], "prices": {"b": 2, "a": 1}}
            """
        return try! JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
    }()

    func render(_ text: String, _ data: JSONValue = Self.data) throws -> String {
        try DynamicTemplate(text).render(data)
    }

    @Test(arguments: [
        // Values, escaping and raw output.
        ("Hello {{name}}!", "Hello Ada &lt;Lovelace&gt;!"),
        ("{{{html}}} {{html}}", "<b>hi</b> &lt;b&gt;hi&lt;/b&gt;"),
        ("{{ user.profile.first }}", "Ada"),
        ("{{user.orders.0.id}} {{user.orders.[1].id}} {{list.length}}", "7 8 3"),
        ("[{{missing}}][{{user.nothing.deeper}}][{{none}}]", "[][][]"),
        ("{{count}} {{total}} {{whole}} {{vip}} {{list}}", "0 2.5 3 true x,y,z"),
        ("{{user.profile}}", "[object Object]"),
        ("a = b 'c' `d`: {{code}}{{! a comment }}{{!-- a }} comment --}}", "a = b 'c' `d`: USD"),
        ("{{#if x}}{{/if}}<{{~ code ~}}>", "<USD>"),
        // Conditions.
        ("{{#if vip}}gold{{else}}plain{{/if}}", "gold"),
        ("{{#if count}}some{{else}}none{{/if}}", "none"),
        ("{{#if empty}}1{{/if}}{{#if none}}2{{/if}}{{#if tags}}3{{/if}}{{#if missing}}4{{/if}}{{#if user}}5{{/if}}", "5"),
        ("{{#unless vip}}plain{{else}}gold{{/unless}}", "gold"),
        ("{{#if count}}a{{else if vip}}b{{else}}c{{/if}}", "b"),
        ("{{#if count}}a{{else if empty}}b{{else}}c{{/if}}", "c"),
        ("{{#equals code \"USD\"}}dollars{{else}}other{{/equals}}", "dollars"),
        ("{{#equals limit 10}}ten{{/equals}}{{#equals limit \"10\"}}!{{/equals}}{{#equals whole 3}}3{{/equals}}", "ten!3"),
        ("{{#equals code 'EUR'}}euros{{else}}not euros{{/equals}}", "not euros"),
        // Loops.
        ("{{#each list}}{{@index}}={{this}}{{#unless @last}}, {{/unless}}{{/each}}", "0=x, 1=y, 2=z"),
        ("{{#each user.orders}}#{{id}}:{{#each items}}{{this}}{{else}}none{{/each}};{{/each}}", "#7:ab;#8:none;"),
        ("{{#each user.orders}}{{../code}}{{id}} {{/each}}", "USD7 USD8 "),
        ("{{#each tags}}x{{else}}no tags{{/each}}", "no tags"),
        ("{{#each prices}}{{@key}}={{this}} {{/each}}", "a=1 b=2 "),
        ("{{#each list}}{{#if @first}}first {{/if}}{{/each}}", "first "),
    ])
    func renders(_ template: String, _ expected: String) throws {
        #expect(try render(template) == expected)
    }

    @Test(arguments: [
        ("line one\n{{#if vip}}\nno close", 2, "{{#if}} is never closed"),
        ("{{#if vip}}x{{/each}}", 1, "{{/each}} does not close {{#if}}"),
        ("a\nb\n{{/if}}", 3, "{{/if}} closes a block that was never opened"),
        ("{{#loop list}}{{/loop}}", 1, "unknown block helper \"loop\""),
        ("x\n{{name", 2, "\"{{\" is never closed"),
        ("{{formatDate date}}", 1, "unknown helper \"formatDate\""),
        ("{{#if a b}}{{/if}}", 1, "{{#if}} takes one argument"),
        ("{{#equals a}}{{/equals}}", 1, "{{#equals}} takes two arguments"),
        ("{{#if a}}1{{else}}2{{else}}3{{/if}}", 1, "a second {{else}} in {{#if}}"),
        ("{{else}}", 1, "{{else}} outside a block"),
        ("{{@nope}}", 1, "unknown variable @nope"),
        ("{{ }}", 1, "empty {{ }}"),
        ("{{#equals a \"b}}{{/equals}}", 1, "unterminated string"),
    ])
    func errorsNameTheLine(_ template: String, _ line: Int, _ message: String) {
        #expect(throws: DynamicTemplate.Failure(line: line, message: message)) { try DynamicTemplate(template) }
    }

    @Test func limitsBoundLengthDepthAndOutput() throws {
        let limits = DynamicTemplate.Limits(maximumLength: 100, maximumDepth: 3, maximumOutput: 50)
        #expect(throws: DynamicTemplate.Failure.self) { try DynamicTemplate(String(repeating: "x", count: 101), limits: limits) }
        let deep = String(repeating: "{{#if a}}", count: 4) + String(repeating: "{{/if}}", count: 4)
        #expect(throws: DynamicTemplate.Failure(line: 1, message: "blocks nested deeper than 3")) { try DynamicTemplate(deep, limits: limits) }
        // Nested loops multiply: the output limit stops them.
        let nested = try DynamicTemplate("{{#each list}}{{#each ../list}}{{#each ../../list}}abc{{/each}}{{/each}}{{/each}}", limits: limits)
        #expect(throws: DynamicTemplate.Failure(line: 1, message: "rendered output is larger than 50 bytes")) { try nested.render(Self.data) }
        // A deep template at the default limits parses without recursion trouble.
        let thousand = String(repeating: "{{#if vip}}", count: 32) + "ok" + String(repeating: "{{/if}}", count: 32)
        #expect(try DynamicTemplate(thousand).render(Self.data) == "ok")
    }

    @Test func valuesAreEscapedAsHandlebarsDoes() throws {
        let data: JSONValue = .object(["odd": .string("a`b=c'd\"e&<>")])
        #expect(try render("{{odd}}", data) == "a&#x60;b&#x3D;c&#x27;d&quot;e&amp;&lt;&gt;")
        #expect(try render("{{{odd}}}", data) == "a`b=c'd\"e&<>")
    }

    @Test func plainTextPassesThroughByteForByte() throws {
        let text = "Grüße — {single} } { }} no tags here\r\n\t✓"
        #expect(try render(text) == text)
    }
}
