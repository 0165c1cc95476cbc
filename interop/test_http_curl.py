"""curl against every operation of the served OpenAPI document, over http and https: each
answers its documented success status. The test reads the document itself and fails when an
operation has no curl call here, so a new endpoint cannot go untested.
"""
import json
import os
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import DEST, USER, free_port, routed_tern
from test_http_webhooks import Receiver




@pytest.fixture
def receiver():
    hook = Receiver(free_port())
    yield hook
    hook.stop()


def curl(base, method, path, key=None, body=None, insecure=False):
    """(status, body bytes, content type) of one curl call."""
    with tempfile.NamedTemporaryFile(delete=False) as out:
        out_path = out.name
    command = ["curl", "-sS", "-o", out_path, "-w", "%{http_code} %{content_type}", "-X", method, base + path]
    if insecure:
        command.append("-k")
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    code, _, content_type = result.stdout.partition(" ")
    with open(out_path, "rb") as f:
        data = f.read()
    os.unlink(out_path)
    return int(code), data, content_type


def test_every_documented_operation_answers_curl(tern_factory, sink, receiver):
    https_port = free_port()
    api = routed_tern(tern_factory, sink, '[http]\nallow_private_webhooks = true\nwebhook_batch_delay = "1s"\n', start=False)
    # An https listener too (a TOML table appears once: add the key to the generated [listen]).
    with open(api.config) as f:
        text = f.read()
    with open(api.config, "w") as f:
        f.write(text.replace("[listen]\n", f'[listen]\nhttps = ["127.0.0.1:{https_port}"]\n', 1))
    api.start()
    deadline = time.time() + 30
    while time.time() < deadline and subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://127.0.0.1:{https_port}/v3/openapi.json"]).returncode != 0:
        time.sleep(0.2)
    key = api.key
    sandbox_key = api.cli("key", "create", USER, "--sandbox").stdout.strip()
    base = api.http_url
    covered = set()

    def call(method, template, expected, path=None, body=None, use_key=key, via=base, insecure=False):
        status, data, content_type = curl(via, method, path or template, use_key, body, insecure)
        assert status == expected, (method, path or template, status, data[:500])
        covered.add((method.lower(), template))
        return json.loads(data) if data and content_type.startswith("application/json") else data

    doc = call("GET", "/v3/openapi.json", 200, use_key=None)
    assert b"tern_queue_recipients" in call("GET", "/metrics", 200, use_key=None)
    mail = {"personalizations": [{"to": [{"email": f"a@{DEST}"}]}], "from": {"email": USER}, "subject": "curl",
            "content": [{"type": "text/plain", "value": "x"}]}
    call("POST", "/v3/mail/send", 202, body=mail)
    # The same over https, with the certificate SMTP uses; the trace field says so.
    call("POST", "/v3/mail/send", 202, body=dict(mail, subject="over https"), via=f"https://127.0.0.1:{https_port}", insecure=True)

    made = call("POST", "/v3/api_keys", 201, body={"name": "curl", "scopes": ["mail.send"]})
    kid = made["api_key_id"]
    call("GET", "/v3/api_keys", 200)
    call("GET", "/v3/api_keys/{api_key_id}", 200, f"/v3/api_keys/{kid}")
    call("PATCH", "/v3/api_keys/{api_key_id}", 200, f"/v3/api_keys/{kid}", body={"name": "curl2"})
    call("PUT", "/v3/api_keys/{api_key_id}", 200, f"/v3/api_keys/{kid}", body={"name": "curl3", "scopes": ["stats.read"]})
    call("DELETE", "/v3/api_keys/{api_key_id}", 204, f"/v3/api_keys/{kid}")

    deadline = time.time() + 20
    while time.time() < deadline:
        listed = call("GET", "/v3/messages", 200, "/v3/messages?limit=10")
        if len(listed["messages"]) == 2 and all(m["status"] == "delivered" for m in listed["messages"]):
            break
        time.sleep(0.2)
    msg_id = listed["messages"][0]["msg_id"]
    call("GET", "/v3/messages/{msg_id}", 200, f"/v3/messages/{msg_id}")
    traced = [raw for _, _, raw in sink.messages if b"over https" in raw]
    assert traced and b"with HTTPS" in traced[0]
    call("GET", "/v3/stats", 200, f"/v3/stats?start_date={time.strftime('%Y-%m-%d', time.gmtime())}&aggregated_by=week")
    call("GET", "/v3/tracking_settings", 200)
    assert call("PATCH", "/v3/tracking_settings/open", 200, body={"enabled": True}) == {"enabled": True}
    assert call("GET", "/v3/tracking_settings/open", 200) == {"enabled": True}
    assert call("PATCH", "/v3/tracking_settings/click", 200, body={"enabled": True, "enable_text": True})["enable_text"] is True
    call("GET", "/v3/tracking_settings/click", 200)
    assert call("PATCH", "/v3/tracking_settings/subscription", 200, body={"enabled": False, "plain_content": "Bye: <% %>"})["plain_content"] == "Bye: <% %>"
    call("GET", "/v3/tracking_settings/subscription", 200)
    template = call("POST", "/v3/templates", 201, body={"name": "welcome", "generation": "dynamic"})
    tid = template["id"]
    call("GET", "/v3/templates", 200, "/v3/templates?generations=dynamic")
    call("PATCH", "/v3/templates/{template_id}", 200, f"/v3/templates/{tid}", body={"name": "welcome-2"})
    version = call("POST", "/v3/templates/{template_id}/versions", 201, f"/v3/templates/{tid}/versions",
                   body={"name": "v1", "subject": "Hi {{name}}", "html_content": "<p>{{name}}</p>", "plain_content": "{{name}}", "active": 1})
    vid = version["id"]
    call("GET", "/v3/templates/{template_id}/versions/{version_id}", 200, f"/v3/templates/{tid}/versions/{vid}")
    call("PATCH", "/v3/templates/{template_id}/versions/{version_id}", 200, f"/v3/templates/{tid}/versions/{vid}", body={"subject": "Hello {{name}}"})
    call("POST", "/v3/templates/{template_id}/versions/{version_id}/activate", 200, f"/v3/templates/{tid}/versions/{vid}/activate")
    call("GET", "/v3/templates/{template_id}", 200, f"/v3/templates/{tid}")
    call("DELETE", "/v3/templates/{template_id}/versions/{version_id}", 204, f"/v3/templates/{tid}/versions/{vid}")
    call("DELETE", "/v3/templates/{template_id}", 204, f"/v3/templates/{tid}")
    call("GET", "/v3/categories/stats", 200,
         f"/v3/categories/stats?start_date={time.strftime('%Y-%m-%d', time.gmtime())}&categories=news&categories=promo")

    hook = call("POST", "/v3/user/webhooks/event/settings", 201, body={"url": f"http://127.0.0.1:{receiver.port}/in", "delivered": True})
    wid = hook["id"]
    call("GET", "/v3/user/webhooks/event/settings/all", 200)
    call("GET", "/v3/user/webhooks/event/settings", 200)
    call("PATCH", "/v3/user/webhooks/event/settings", 200, body={"processed": True})
    call("GET", "/v3/user/webhooks/event/settings/{id}", 200, f"/v3/user/webhooks/event/settings/{wid}")
    call("PATCH", "/v3/user/webhooks/event/settings/{id}", 200, f"/v3/user/webhooks/event/settings/{wid}", body={"friendly_name": "curl"})
    signed = call("PATCH", "/v3/user/webhooks/event/settings/signed/{id}", 200, f"/v3/user/webhooks/event/settings/signed/{wid}",
                  body={"enabled": True})
    assert call("GET", "/v3/user/webhooks/event/settings/signed/{id}", 200,
                f"/v3/user/webhooks/event/settings/signed/{wid}")["public_key"] == signed["public_key"]
    call("POST", "/v3/user/webhooks/event/test", 204, body={"id": wid})
    call("DELETE", "/v3/user/webhooks/event/settings/{id}", 204, f"/v3/user/webhooks/event/settings/{wid}")

    someone = f"someone@{DEST}"
    quoted = urllib.parse.quote(someone)
    call("POST", "/v3/asm/suppressions/global", 201, body={"recipient_emails": [someone]})
    call("GET", "/v3/asm/suppressions/global/{email}", 200, f"/v3/asm/suppressions/global/{quoted}")
    call("GET", "/v3/suppression/{list}", 200, "/v3/suppression/unsubscribes?limit=10")
    call("GET", "/v3/suppression/{list}/{email}", 200, f"/v3/suppression/unsubscribes/{quoted}")
    call("DELETE", "/v3/suppression/{list}/{email}", 204, f"/v3/suppression/unsubscribes/{quoted}")
    call("POST", "/v3/asm/suppressions/global", 201, body={"recipient_emails": [someone]})
    call("DELETE", "/v3/asm/suppressions/global/{email}", 204, f"/v3/asm/suppressions/global/{quoted}")
    call("DELETE", "/v3/suppression/{list}", 204, "/v3/suppression/bounces", body={"delete_all": True})
    group = call("POST", "/v3/asm/groups", 201, body={"name": "curl", "description": "d"})
    gid = group["id"]
    call("GET", "/v3/asm/groups", 200)
    call("GET", "/v3/asm/groups/{group}", 200, f"/v3/asm/groups/{gid}")
    call("PATCH", "/v3/asm/groups/{group}", 200, f"/v3/asm/groups/{gid}", body={"description": "e"})
    call("POST", "/v3/asm/groups/{group}/suppressions", 201, f"/v3/asm/groups/{gid}/suppressions", body={"recipient_emails": [someone]})
    assert call("GET", "/v3/asm/groups/{group}/suppressions", 200, f"/v3/asm/groups/{gid}/suppressions") == [someone]
    call("DELETE", "/v3/asm/groups/{group}/suppressions/{email}", 204, f"/v3/asm/groups/{gid}/suppressions/{quoted}")
    call("DELETE", "/v3/asm/groups/{group}", 204, f"/v3/asm/groups/{gid}")

    call("POST", "/v3/mail/send", 202, body=dict(mail, subject="sandboxed"), use_key=sandbox_key)
    inbox = call("GET", "/v3/sandbox/messages", 200)
    sid = inbox["messages"][0]["id"]
    call("GET", "/v3/sandbox/messages/{id}", 200, f"/v3/sandbox/messages/{sid}")
    assert b"Subject: sandboxed" in call("GET", "/v3/sandbox/messages/{id}/raw", 200, f"/v3/sandbox/messages/{sid}/raw")

    documented = {(method, path) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert documented - covered == set(), documented - covered
