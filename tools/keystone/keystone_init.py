#!/usr/bin/env python3
"""Run several ``keystone-manage`` commands while importing Keystone only once.

    keystone_init.py CONF 'db_sync' 'fernet_setup ...' -- 'bootstrap ...'

Each keystone-manage process spends most of its time importing Keystone. This
script imports ``keystone.cmd.cli`` once and forks a child per command, so each
child starts with the modules loaded and oslo.config unparsed. Commands before
``--`` run in parallel, the ones after it one by one. Exit status: the first
failing child's, else 0.
"""
import os
import shlex
import sys

from keystone.cmd import cli


def spawn(conf: str, command: str) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        argv = ["keystone-manage", "--config-file", conf, *shlex.split(command)]
        sys.argv = argv
        cli.main(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report anything, then exit non-zero
        import traceback
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def wait(children: list[tuple[str, int]]) -> int:
    status = 0
    for command, pid in children:
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if code:
            print(f"keystone_init: {command.split()[0]} exited {code}", file=sys.stderr)
            status = status or code
    return status


def main() -> int:
    conf, commands = sys.argv[1], sys.argv[2:]
    split = commands.index("--") if "--" in commands else len(commands)
    parallel, serial = commands[:split], commands[split + 1:]
    status = wait([(c, spawn(conf, c)) for c in parallel])
    for command in serial:
        status = status or wait([(command, spawn(conf, command))])
    return status


if __name__ == "__main__":
    sys.exit(main())
