"""Tern's MIME answers against an independent parser: every message of the golden corpus
(Tests/Golden/imap, made by scripts/imap-corpus.py) is APPENDed, and its BODYSTRUCTURE and
ENVELOPE as IMAPClient parses them are compared with what Python's email package reads from
the same bytes: the tree's shape, each part's type, charset, encoding and file name, each
part's decoded content (BINARY) and size (BODY[n]), and the envelope's subject and addresses."""
import email
import email.policy
import email.utils
import os

import pytest

from test_imap import imapclient, make_imap

CORPUS = os.path.join(os.path.dirname(__file__), "..", "Tests", "Golden", "imap")
MESSAGES = sorted(name for name in os.listdir(CORPUS) if name.endswith(".eml"))
# Where the two parsers legitimately differ: Python keeps a multipart with no delimiter as
# one text payload, and Tern answers such a multipart with one empty text part, as RFC 9051's
# grammar (at least one body part) asks.
SHAPE_DIFFERS = {"20-empty-multipart.eml"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    import tempfile
    from conftest import Tern, DOMAIN, USER, PASSWORD
    # One server for the module: the corpus is appended once, then fetched per message.
    directory = tempfile.mkdtemp(prefix="tern-corpus-")
    server = Tern(directory)
    server.cli("domain", "add", DOMAIN)
    server.cli("user", "add", USER, "--password-stdin", input=PASSWORD + "\n")
    from conftest import free_port
    server.imap_port, server.imaps_port = free_port(), free_port()
    text = open(server.config).read().replace("imap = []", f'imap = ["127.0.0.1:{server.imap_port}"]\nimaps = ["127.0.0.1:{server.imaps_port}"]')
    open(server.config, "w").write(text)
    server.start()
    import socket, time
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", server.imaps_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    client = imapclient(server)
    client.create_folder("Corpus")
    uids = {}
    for name in MESSAGES:
        raw = open(os.path.join(CORPUS, name), "rb").read()
        response = client.append("Corpus", raw)
        uids[name] = int(response.split(b"APPENDUID ")[1].split(b" ")[1].rstrip(b"]"))
    client.select_folder("Corpus", readonly=True)
    yield client, uids
    client.logout()
    server.stop()


def leaves(structure, python, path):
    """Pairs (IMAP part path, IMAPClient part, Python part) for every leaf, walking both trees."""
    if structure.is_multipart:
        children = structure[0]
        assert python.is_multipart() and python.get_content_maintype() == "multipart", path
        payload = python.get_payload()
        assert len(children) == len(payload), (path, len(children), len(payload))
        for index, (child, py_child) in enumerate(zip(children, payload), start=1):
            yield from leaves(child, py_child, path + [index])
        return
    yield path or [1], structure, python


def params(structure):
    raw = structure[2] or ()
    return {raw[i].decode().lower(): raw[i + 1] for i in range(0, len(raw), 2)}


@pytest.mark.parametrize("name", MESSAGES)
def test_structure_matches_python_email(loaded, name):
    client, uids = loaded
    uid = uids[name]
    raw = open(os.path.join(CORPUS, name), "rb").read()
    python = email.message_from_bytes(raw, policy=email.policy.compat32)
    fetched = client.fetch([uid], ["BODYSTRUCTURE", "ENVELOPE", "RFC822.SIZE"])[uid]
    assert fetched[b"RFC822.SIZE"] == len(raw)
    structure = fetched[b"BODYSTRUCTURE"]
    if name in SHAPE_DIFFERS:
        assert structure.is_multipart and len(structure[0]) == 1
        return
    for path, part, py_part in leaves(structure, python, []):
        section = ".".join(map(str, path))
        media = (part[0].decode().lower(), part[1].decode().lower())
        assert media == (py_part.get_content_maintype(), py_part.get_content_subtype()), (name, section)
        charset = params(part).get("charset")
        if py_part.get_param("charset") is not None:
            assert charset.decode().lower() == py_part.get_param("charset").lower(), (name, section)
        encoding = part[5].decode().lower()
        assert encoding == (py_part.get("Content-Transfer-Encoding") or "7bit").strip().lower(), (name, section)
        # The file name: Tern sends RFC 2231 parameters as written; decoded, it is Python's.
        # body-ext-1part (RFC 9051 §9): MD5 then the disposition, after the type's own fields.
        at = 9 if media[0] == "text" else 11 if media == ("message", "rfc822") else 8
        disposition = part[at] if len(part) > at and isinstance(part[at], tuple) else None
        if py_part.get_filename() and disposition:
            dparams = {disposition[1][i].decode().lower(): disposition[1][i + 1] for i in range(0, len(disposition[1] or ()), 2)}
            if "filename*" in dparams:
                value = dparams["filename*"].decode()
                charset_name, _, rest = value.split("'", 2)
                from urllib.parse import unquote_to_bytes
                filename = unquote_to_bytes(rest).decode(charset_name or "us-ascii")
            else:
                filename = dparams["filename"].decode("utf-8")
            theirs = py_part.get_filename()
            if "\ufffd" in theirs:
                # compat32 cannot decode a raw UTF-8 parameter; check the bytes as sent.
                assert filename.encode() in raw, (name, section)
            else:
                assert theirs == filename, (name, section)
        body = client.fetch([uid], [f"BODY.PEEK[{section}]"])[uid]
        content = body.get(f"BODY[{section}]".encode())
        assert part[6] == len(content or b""), (name, section)
        if media[0] != "message" and encoding in ("7bit", "8bit", "binary", "base64", "quoted-printable"):
            expected = py_part.get_payload(decode=True)
            if b"\0" in expected:
                # IMAPClient cannot read literal8 (~{n}); decode the BODY section here instead.
                import base64
                assert encoding == "base64"
                assert base64.b64decode(b"".join(content.split())) == expected, (name, section)
                continue
            binary = client.fetch([uid], [f"BINARY.PEEK[{section}]"])[uid][f"BINARY[{section}]".encode()]
            if encoding in ("7bit", "8bit", "binary"):
                # Python's undecoded payload has no final line break of the part's own.
                assert binary.rstrip(b"\r\n") == expected.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n").rstrip(b"\r\n"), (name, section)
            else:
                assert binary == expected, (name, section)


@pytest.mark.parametrize("name", MESSAGES)
def test_envelope_matches_python_email(loaded, name):
    client, uids = loaded
    uid = uids[name]
    # The default policy reads raw UTF-8 header fields (RFC 6532) as text; compat32 cannot.
    python = email.message_from_bytes(open(os.path.join(CORPUS, name), "rb").read(), policy=email.policy.default)
    envelope = client.fetch([uid], ["ENVELOPE"])[uid][b"ENVELOPE"]
    import re
    raw = open(os.path.join(CORPUS, name), "rb").read()
    header = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    match = re.search(rb"^Subject:[ \t]*(.*?)\r\n(?![ \t])", header, re.M | re.S | re.I)
    if match is None:
        assert envelope.subject is None
    else:
        assert envelope.subject == match.group(1).replace(b"\r\n", b"")
    for field, ours in (("From", envelope.from_), ("To", envelope.to), ("Cc", envelope.cc)):
        values = python.get_all(field)
        theirs = [address.lower().replace('"', "") for _, address in email.utils.getaddresses([str(v) for v in values or []]) if "@" in address]
        mine = [f"{a.mailbox.decode()}@{a.host.decode()}".lower() for a in (ours or ()) if a.host is not None]
        assert mine == theirs, (name, field, mine, theirs)
    if python.get("Message-ID"):
        assert envelope.message_id.decode() == python.get("Message-ID").strip()
