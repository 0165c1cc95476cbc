"""The dialog scripts of Tests/Dialogs replayed against `tern serve` over TCP; the same files
are replayed against the pure session in Tests/TernServerTests/DialogScriptTests.swift."""
import os
import re

import pytest

from conftest import ROOT, RawSMTP

DIALOGS = os.path.join(ROOT, "Tests", "Dialogs")


def load(path):
    steps = []
    with open(path) as f:
        for line in f.read().split("\n"):
            if line.startswith("C: "):
                steps.append(("C", line[3:]))
            elif line == "C:":
                steps.append(("C", ""))
            elif line.startswith("S: "):
                steps.append(("S", line[3:]))
    return steps


SCRIPTS = sorted(name for name in os.listdir(DIALOGS) if name.endswith(".dialog"))


def test_there_are_scripts():
    assert len(SCRIPTS) >= 5


@pytest.mark.parametrize("name", SCRIPTS)
def test_dialog(tern, name):
    client = RawSMTP(tern.smtp_port)
    pending = []
    for kind, text in load(os.path.join(DIALOGS, name)):
        if kind == "C":
            pending.append(text + "\r\n")
            continue
        if pending:
            # Everything since the last reply in one write: pipelined, as the script says.
            client.send("".join(pending))
            pending = []
        code, reply = client.reply()
        # One line as Tern's SMTPReply.singleLine has it: the code, then each line's text.
        line = f"{code} " + " ".join(reply.split("\n"))
        assert re.match(text, line), f"{name}: {line!r} does not start with {text!r}"
    client.close()
