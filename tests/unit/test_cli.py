"""CLI behaviour on user mistakes: one line, exit 2, no traceback."""

import socket

from agent.cli import main


def test_run_with_a_bad_config_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("agent:\n  listen: nowhere\n")
    assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}: agent.listen: 'nowhere' is not HOST:PORT\n"


def test_run_on_a_busy_port_exits_2_with_one_line(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = tmp_path / "c.yaml"
        path.write_text(f"agent:\n  listen: 127.0.0.1:{port}\n  data_dir: {tmp_path / 'data'}\n")
        assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sla-agent: cannot start:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_run_with_an_unusable_data_dir_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = tmp_path / "c.yaml"
    path.write_text(f"agent:\n  data_dir: {blocker / 'sub'}\n")
    assert main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cannot open ledger" in err and len(err.strip().splitlines()) == 1


def test_missing_config_file(tmp_path, capsys):
    assert main(["check", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory\n"
