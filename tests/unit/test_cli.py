"""CLI behaviour on user mistakes: one line, exit 2, no traceback."""

import socket

import pytest

from agent.cli import build_parser, main

# A config that measures something (an empty one is refused).
DEVICE = "snmp:\n  devices:\n    - {name: rt1, address: 192.0.2.1, community: c}\n"


def test_run_with_a_bad_config_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("agent:\n  listen: nowhere\n" + DEVICE)
    assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}: agent.listen: 'nowhere' is not HOST:PORT\n"


def test_run_on_a_busy_port_exits_2_with_one_line(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = tmp_path / "c.yaml"
        path.write_text(f"agent:\n  listen: 127.0.0.1:{port}\n  data_dir: {tmp_path / 'data'}\n" + DEVICE)
        assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sla-agent: cannot start:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_run_with_an_unusable_data_dir_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = tmp_path / "c.yaml"
    path.write_text(f"agent:\n  data_dir: {blocker / 'sub'}\n" + DEVICE)
    assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cannot open ledger" in err and len(err.strip().splitlines()) == 1


def test_missing_config_file(tmp_path, capsys):
    assert main(["check", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory\n"


@pytest.mark.parametrize("listen", ["localhost", "127.0.0.1:80a", "127.0.0.1:0", ":9877"])
def test_demo_with_a_bad_listen_address_is_one_line_and_exit_2(listen, capsys):
    assert main(["demo", "--listen", listen, "--duration", "1"]) == 2
    assert capsys.readouterr().err == f"sla-agent: --listen: {listen!r} is not HOST:PORT\n"


@pytest.mark.parametrize("duration", ["-5", "0", "nan", "inf", "soon"])
def test_demo_refuses_a_duration_that_is_not_positive(duration, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--duration", duration])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("sla-agent demo: argument --duration: ") and len(err.splitlines()) == 1


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "sla-agent run: the following arguments are required: -c/--config (see sla-agent run --help)\n")


@pytest.mark.parametrize("argv", [["--log-level", "debug", "check", "-c", "x"],
                                  ["check", "-c", "x", "--log-level", "debug"],
                                  ["export", "--log-level", "debug", "-c", "x"]])
def test_log_level_is_taken_before_or_after_the_subcommand(argv):
    assert build_parser().parse_args(argv).log_level == "debug"
    without = [a for a in argv if a not in ("--log-level", "debug")]
    assert build_parser().parse_args(without).log_level == "info"


@pytest.mark.parametrize("command", ["run", "check", "demo", "rules", "dashboards", "export"])
def test_every_subcommand_help_has_a_description(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    lines = capsys.readouterr().out.splitlines()
    description = lines[lines.index("") + 1]  # usage, a blank line, then the description
    assert description and not description.startswith(("options:", "  -"))


def test_check_without_secrets_checks_structure_and_counts_what_it_skipped(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("snmp:\n  defaults: {community: '${NOT_SET}'}\n  devices:\n"
                    "    - {name: rt1, address: 192.0.2.1, version: v3, user: u, auth_key: {env: NOPE},"
                    " priv_key: {file: /nonexistent}}\n", encoding="utf-8")
    assert main(["check", "-c", str(path)]) == 2
    capsys.readouterr()
    assert main(["check", "-c", str(path), "--no-secrets"]) == 0
    assert capsys.readouterr().out.endswith("; 3 secret references not checked (--no-secrets)\n")
    path.write_text("snmp:\n  devices:\n    - {name: rt1, address: 192.0.2.1, community: '${C}', port: 0}\n")
    assert main(["check", "-c", str(path), "--no-secrets"]) == 2  # structure is still checked
    assert capsys.readouterr().err.startswith(f"{path}: snmp.devices[0].port: ")
