"""Every oslo.config option of wfaas, ``list_opts`` for oslo-config-generator, and ``load``.

Options follow Mistral's group and option names where Mistral has them, so an
operator's mistral.conf mostly carries over. Each group is a list below; add an
option to the list of its group.

One configuration object per process: :data:`CONF`. Every command
(``wfaas-server`` in each role, ``wfaas-db-manage``, ``wfaas run``) parses its
``--config-file``/``--config-dir`` (or the default locations) into it with
:func:`load`, and passes it to what it builds (``Runtime.from_config(conf)``
hands it to the executor, which gives it to each action's ``configure(conf)``).
Code that is not handed a configuration reads this same object, never another.
Only the shell (services, api, cmd, factories, the executor side of actions)
reads it; the pure layers get plain values passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg, types

CONF = cfg.CONF

default_opts: list[cfg.Opt] = [
    cfg.StrOpt("transport_url", default="local:/",
               help="Message transport between parts: 'local:/' (in-process, the default) "
                    "or 'rabbit://user:pass@host:5672/'."),
    cfg.StrOpt("state_dir", default="~/.local/share/wfaas",
               help="Where the embedded default keeps its SQLite file."),
    cfg.IntOpt("max_document_size_kb", default=1024,
               help="Largest workflow, workbook or action document accepted, in KiB."),
]

logging_opts: list[cfg.Opt] = [  # oslo.log's names, as in mistral.conf
    cfg.BoolOpt("debug", default=False,
                help="Log at DEBUG level instead of INFO."),
    cfg.StrOpt("log_file",
               help="File the log is written to (appended). Unset: standard error."),
    cfg.StrOpt("log_dir",
               help="Directory of a relative log_file."),
    cfg.StrOpt("log_config_append",
               help="A logging configuration file (Python logging.config fileConfig INI, or "
                    "a .json/.yaml dictConfig). When set it replaces debug, log_file and "
                    "use_json."),
    cfg.BoolOpt("use_json", default=False,
                help="Write the log as JSON, one object per line, with execution_id, "
                     "task_id and project_id when the line concerns one."),
]

api_opts: list[cfg.Opt] = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address the REST API listens on."),
    cfg.PortOpt("port", default=8989, help="Port the REST API listens on."),
    cfg.IntOpt("max_limit", default=1000, help="Largest page a list call returns."),
    cfg.IntOpt("max_body_size_kb", default=4096, help="Largest request body, in KiB (413 above)."),
    cfg.IntOpt("max_header_size_kb", default=64, min=1,
               help="Largest request head (request line and headers), in KiB (413 above)."),
    cfg.FloatOpt("request_timeout", default=10.0, min=0.1,
                 help="Seconds a client has to send a whole request from its first byte, "
                      "and an idle keep-alive connection stays open; a worker thread only "
                      "takes a request once it has fully arrived (a slow client holds no "
                      "thread); 408 or closed after it."),
    cfg.BoolOpt("allow_action_execution_deletion", default=False,
                help="Allow DELETE /v2/action_executions/<id> for completed ad-hoc runs."),
    cfg.IntOpt("threads", default=16, min=1,
               help="Worker threads of the API's WSGI server (requests served at once)."),
    cfg.IntOpt("max_json_depth", default=100, min=-1,
               help="Deepest nesting of arrays/objects accepted in a JSON request body and "
                    "in its JSON-encoded fields (input, params, variables...); deeper -> 400. "
                    "-1: no limit of ours (documents too deep for the parser are still "
                    "refused with a 400)."),
    cfg.BoolOpt("strict_list_filters", default=True,
                help="A list filter on an enumerated column (state, task type, scope) with "
                     "a value outside its set, or an unknown operator prefix "
                     "(state=bogus:ERROR), is a 400 naming it. False: Mistral's behaviour, "
                     "the value is taken as it is and matches nothing."),
]

database_opts: list[cfg.Opt] = [
    cfg.StrOpt("connection", default="",
               help="SQLAlchemy URL. Empty: SQLite file wfaas.db under [DEFAULT] state_dir. "
                    "postgresql+psycopg://user@host/db selects PostgreSQL.",
               secret=True),
    cfg.IntOpt("max_pool_size", default=10, help="Connection pool size (PostgreSQL)."),
]

engine_opts: list[cfg.Opt] = [
    cfg.IntOpt("execution_field_size_limit_kb", default=1024,
               help="Largest input, output, params or published value, in KiB (-1: no limit)."),
    cfg.IntOpt("execution_integrity_check_delay", default=20,
               help="Seconds between checks for executions stuck in RUNNING (<0 disables)."),
    cfg.IntOpt("workers", default=0, min=0,
               help="Engine threads applying events. 0: one on SQLite (its writers are "
                    "serialised, a second thread only adds lock and GIL contention), two on "
                    "other databases."),
    cfg.IntOpt("pure_actions_per_step", default=1000, min=0,
               help="Most std.noop / std.echo / std.fail actions (without timeout, target "
                    "or delay) an "
                    "engine step runs itself instead of sending them to an executor; their "
                    "completion is applied in the same step and transaction (0: always "
                    "send them to an executor)."),
]

executor_opts: list[cfg.Opt] = [
    cfg.IntOpt("workers", default=16, help="Threads running actions in a local executor."),
    cfg.StrOpt("host", default="", help="Executor group name that a task's 'target' can route to."),
    cfg.BoolOpt("durable_acceptance", default=False,
                help="Distributed mode (PostgreSQL): commit an executor's acceptance of an "
                     "action synchronously, waiting for the WAL flush (a disk sync per "
                     "action). Off (default): the acceptance is visible to every other "
                     "executor at once but reaches the disk with the next synchronous commit "
                     "of anyone (the engine applying the result) or within ~0.6 s; only a "
                     "crash of PostgreSQL itself inside that window can forget it (see "
                     "docs/distributed.md)."),
]

scheduler_opts: list[cfg.Opt] = [
    cfg.FloatOpt("max_sleep", default=1.0,
                 help="Longest the scheduler sleeps between checks for due delayed calls, in s."),
    cfg.IntOpt("batch_size", default=100, help="Delayed calls claimed at once."),
]

#: Networks actions may not connect to by default: loopback, link-local (cloud metadata),
#: private, this host, shared CGNAT space, multicast, reserved and broadcast.
DEFAULT_DENIED = ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10",
                  "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
                  "0.0.0.0/8", "::/128", "100.64.0.0/10", "224.0.0.0/4", "ff00::/8",
                  "240.0.0.0/4"]

action_std_http_opts: list[cfg.Opt] = [
    cfg.ListOpt("denied_cidrs", default=DEFAULT_DENIED,
                help="std.http refuses URLs whose host resolves into these networks, after "
                     "normalising each address (IPv4-mapped/compatible IPv6, NAT64, 6to4, "
                     "Teredo; 0.0.0.0 and :: count as this host). Every redirect hop and "
                     "proxy is checked and the connection goes to the checked address. "
                     "Empty: no check (Mistral's behaviour)."),
    cfg.ListOpt("allowed_hosts", default=[],
                help="Host names or CIDRs std.http may reach even when in denied_cidrs."),
    cfg.FloatOpt("default_timeout", default=60.0, help="std.http timeout when none is given, s."),
    cfg.IntOpt("max_response_size_bytes", default=5 * 1024 * 1024,
               help="Largest std.http response body accepted."),
    cfg.StrOpt("callback_base_url", default="",
               help="Base URL of the REST API that std.mistral_http puts in its "
                    "Mistral-Callback-URL header (empty: http://<[api] host>:<[api] port>)."),
]

egress_opts: list[cfg.Opt] = [
    cfg.ListOpt("denied_cidrs", default=None,
                help="Networks std.ssh, std.email, OpenStack actions and action packs "
                     "(wfaas.actions.egress) may not connect to, checked like "
                     "[action_std_http] denied_cidrs. Unset: [action_std_http] denied_cidrs; "
                     "empty: no check."),
    cfg.ListOpt("allowed_hosts", default=None,
                help="Host names or CIDRs reachable even when denied. Unset: "
                     "[action_std_http] allowed_hosts."),
    cfg.ListOpt("allowed_ports", default=[], item_type=types.Integer(min=1, max=65535),
                help="Ports every action (std.http included) may connect to. Empty: any."),
    cfg.BoolOpt("use_environment_proxies", default=False,
                help="Let std.http and pack HTTP sessions use the executor's HTTP(S)_PROXY "
                     "environment and .netrc (the proxy is checked like any address)."),
]

action_std_ssh_opts: list[cfg.Opt] = [
    cfg.ListOpt("key_dirs", default=["~/.ssh"],
                help="Directories std.ssh private_key_filename may name a file in (relative "
                     "names are looked up in them, in order). Symlinks and '..' are resolved "
                     "before the check; only regular files of at most 64 KiB are read."),
    cfg.BoolOpt("allow_proxy_command", default=False,
                help="Allow std.ssh_proxied's proxy_command input, which runs a command on "
                     "the executor (the command's own connections bypass the egress policy)."),
]

expressions_opts: list[cfg.Opt] = [
    cfg.ListOpt("allowed_languages", default=["yaql", "jinja"],
                help="Expression languages accepted at upload and evaluation."),
    cfg.FloatOpt("evaluation_timeout", default=3.0, min=0,
                 help="Most seconds one expression string may take to evaluate "
                      "(0: no limit); also bounds Jinja template rendering. A task whose "
                      "expression runs longer fails naming this option."),
    cfg.IntOpt("max_fuel", default=1000000, min=0,
               help="Most steps one expression string may take: one per YAQL function "
                    "call and per item an iterator yields, one per Jinja loop iteration, "
                    "call, attribute access, operator and filter (0: no limit)."),
    cfg.IntOpt("max_value_size_kb", default=10240, min=0,
               help="Largest string or collection one expression may build, in KB "
                    "(0: no limit)."),
    cfg.IntOpt("max_total_size_kb", default=65536, min=0,
               help="Most KB of strings and collections one expression string may build "
                    "in total (0: no limit)."),
    cfg.IntOpt("max_int_bits", default=100000, min=0,
               help="Largest integer an expression may build, in bits (0: no limit)."),
    cfg.StrOpt("regex_fallback", default="guarded", choices=["guarded", "refuse", "python"],
               help="Regular expressions run on RE2 (linear time). For a pattern RE2 "
                    "cannot compile (backreferences, lookaround): 'guarded' runs it on "
                    "Python's re unless it has a nested quantifier, 'refuse' refuses it, "
                    "'python' runs every pattern on Python's re as Mistral does "
                    "(no protection against catastrophic backtracking)."),
]

yaql_opts: list[cfg.Opt] = [
    cfg.IntOpt("limit_iterators", default=100000,
               help="Most items a YAQL iterator may produce (-1: no limit)."),
    cfg.IntOpt("memory_quota", default=10000000,
               help="Most memory a YAQL evaluation may hold, in bytes (-1: no limit)."),
]

pecan_opts: list[cfg.Opt] = [
    cfg.BoolOpt("auth_enable", default=False,
                help="Validate Keystone tokens and scope every object to its project."),
]

openstack_actions_opts: list[cfg.Opt] = [
    cfg.ListOpt("enabled_services", default=[],
                help="Services whose OpenStack actions are generated, by action prefix "
                     "(compute, identity, block_storage, ...). Empty: every service."),
    cfg.StrOpt("region_name", default="", help="Region OpenStack actions use by default."),
    cfg.StrOpt("interface", default="public", help="Endpoint interface: public/internal/admin."),
    cfg.StrOpt("cloud", default="",
               help="clouds.yaml cloud whose credentials actions use when the API has no "
                    "auth (also the trustee for trusts). Environment OS_* values are ignored."),
    cfg.StrOpt("auth_url", default="", help="Keystone URL (when 'cloud' is not set)."),
    cfg.StrOpt("username", default="", help="User for actions without auth, trustee of trusts."),
    cfg.StrOpt("password", default="", secret=True, help="Password of 'username'."),
    cfg.StrOpt("project_name", default="", help="Project of 'username'."),
    cfg.StrOpt("user_domain_name", default="Default", help="Domain of 'username'."),
    cfg.StrOpt("project_domain_name", default="Default", help="Domain of 'project_name'."),
    cfg.StrOpt("mapping_file", default="",
               help="YAML renaming, hiding or aliasing OpenStack actions (default: the "
                    "packaged mapping with Mistral-style aliases)."),
]

cron_trigger_opts: list[cfg.Opt] = [
    cfg.BoolOpt("enabled", default=True,
                help="Fire cron triggers in processes running the scheduler role."),
    cfg.FloatOpt("max_sleep", default=30.0,
                 help="Longest the cron loop sleeps before re-reading triggers, in s (it is "
                      "woken at once by triggers created in the same process)."),
    cfg.IntOpt("misfire_grace_time", default=60,
               help="A run later than this many seconds (service down) is a missed run: it "
                    "is skipped unless the trigger has catch_up, which fires it once."),
]

event_engine_opts: list[cfg.Opt] = [
    cfg.BoolOpt("enabled", default=True,
                help="Listen for notifications of event triggers (needs a RabbitMQ URL)."),
    cfg.StrOpt("transport_url", default="", secret=True,
               help="Broker the notifications arrive on (rabbit://...). Empty: [DEFAULT] "
                    "transport_url when it is a RabbitMQ URL, else no listener (events can "
                    "still be posted to /v2/event_triggers/events)."),
    cfg.StrOpt("listener_pool_name", default="wfaas-event-engine",
               help="Queue name prefix shared by every wfaas event listener, so that each "
                    "notification starts its workflows once across processes."),
    cfg.ListOpt("priorities", default=["audit", "critical", "debug", "error", "info", "warn"],
                help="Notification priorities listened to (routing keys <topic>.<priority>)."),
    cfg.StrOpt("event_definitions_file", default="",
               help="YAML list of {event_types: [globs], properties: {name: expression}} "
                    "(Mistral's event_definitions.yml) turning a notification into the "
                    "workflow's params.event_params. Empty: the default properties."),
]

action_heartbeat_opts: list[cfg.Opt] = [  # distributed deployments (RabbitMQ transport) only
    cfg.FloatOpt("check_interval", default=10.0,
                 help="Seconds between an executor's heartbeats for its running actions, and "
                      "between the engines' integrity checks (0 disables both)."),
    cfg.IntOpt("max_missed_heartbeats", default=6,
               help="A running action whose executor missed this many heartbeats is lost: "
                    "re-run when its task is safe-rerun, failed otherwise."),
    cfg.FloatOpt("first_heartbeat_timeout", default=3600.0,
                 help="Seconds an action may wait for an executor to accept it (e.g. in the "
                      "queue of a busy or absent target group) before it counts as lost."),
    cfg.FloatOpt("engine_lease", default=10.0,
                 help="Seconds after its last heartbeat (a row in the 'engines' table, "
                      "refreshed every lease/4 s) that an engine counts as dead: the live "
                      "engines then take its executions over and send again what it may "
                      "have lost (0: no ownership, every engine checks every execution)."),
    cfg.FloatOpt("stuck_execution_timeout", default=600.0,
                 help="A RUNNING execution with nothing running, scheduled or changed for "
                      "this many seconds is restarted (never started) or failed (0: never)."),
]

dashboard_opts: list[cfg.Opt] = [
    cfg.BoolOpt("enabled", default=True,
                help="Serve the web dashboard at /ui (static pages that use the REST API "
                     "with the caller's own token)."),
]

metrics_opts: list[cfg.Opt] = [
    cfg.BoolOpt("enabled", default=True,
                help="Serve Prometheus metrics at /metrics on the API port (no token "
                     "needed: counts and timings only, no names or data)."),
    cfg.PortOpt("port", default=0,
                help="Serve /metrics on this port too, for roles without the API "
                     "(--server engine, executor, scheduler); 0: not served."),
    cfg.HostAddressOpt("host", default="127.0.0.1",
                       help="Address of the metrics port of [metrics] port."),
]

actions_opts: list[cfg.Opt] = [  # installed action packs
    cfg.BoolOpt("fail_on_broken_pack", default=False,
                help="A pack (wfaas.actions or mistral.actions entry points) that fails to "
                     "load stops the service. False: it is logged and listed as broken "
                     "(wfaas-db-manage populate shows it) and the other packs work."),
    cfg.FloatOpt("rescan_interval", default=2.0, min=0.0,
                 help="When no provider knows an action name, re-read the installed packs "
                      "(at most once per this many seconds), so a pack installed while the "
                      "service runs works without a restart. 0: never (restart instead)."),
]

execution_expiration_policy_opts: list[cfg.Opt] = [  # Mistral's group, same names and units
    cfg.FloatOpt("evaluation_interval", default=0.0, min=0.0,
                 help="Minutes between two evaluations of the expiration policy by the "
                      "scheduler role (0: never; wfaas-db-manage purge still works)."),
    cfg.FloatOpt("older_than", default=0.0, min=0.0,
                 help="Delete finished root executions (with their sub-executions, tasks "
                      "and action executions) that finished more than this many minutes "
                      "ago (0: no age limit)."),
    cfg.IntOpt("max_finished_executions", default=0, min=0,
               help="Keep at most this many finished root executions, deleting the oldest "
                    "first (0: no limit)."),
    cfg.IntOpt("batch_size", default=0, min=0,
               help="Root executions deleted per transaction (0: 100)."),
    cfg.ListOpt("ignored_states", default=[],
                help="Finished states that never expire, e.g. ERROR to keep failures for "
                     "inspection (SUCCESS, ERROR, CANCELLED)."),
]

limits_opts: list[cfg.Opt] = [  # docs/security.md; <= 0 turns a limit off (as Mistral)
    cfg.IntOpt("max_nesting_depth", default=10,
               help="Deepest sub-workflow nesting (a root execution is depth 0); a deeper "
                    "sub-workflow fails its task (-1: no limit, as Mistral)."),
    cfg.IntOpt("max_descendants_per_root", default=5000,
               help="Most sub-workflow executions below one root execution, all levels "
                    "(-1: no limit, as Mistral)."),
    cfg.IntOpt("max_tasks_per_execution", default=50000,
               help="Most task executions one workflow execution may create; more fails "
                    "it (-1: no limit, as Mistral)."),
    cfg.IntOpt("max_with_items", default=100000,
               help="Most items of one with-items task; more fails the execution "
                    "(-1: no limit, as Mistral)."),
    cfg.IntOpt("max_execution_data_kb", default=10240,
               help="Most data one execution may hold, in KiB: its input, vars, global "
                    "context and every published value, summed (-1: no limit, as Mistral). "
                    "Each published value and the output are also limited by [engine] "
                    "execution_field_size_limit_kb."),
    cfg.IntOpt("max_running_executions_per_project", default=-1,
               help="Most root executions one project may have RUNNING at once; starting "
                    "one more answers HTTP 409 (-1: no limit, the default, as Mistral)."),
    cfg.FloatOpt("slow_step_seconds", default=0.5,
                 help="An engine step running this long is slow: a cancel or pause of its "
                      "execution is applied at once, and when every engine worker is in a "
                      "slow step an extra worker starts."),
    cfg.IntOpt("max_extra_engine_workers", default=4, min=0,
               help="Most extra engine workers started while the others are in slow steps."),
    cfg.IntOpt("max_step_attempts", default=3,
               help="An execution whose step was interrupted (process stopped or killed "
                    "during it) this many times is failed as quarantined at the next start "
                    "instead of being run again (-1: never)."),
    cfg.FloatOpt("max_step_seconds", default=120.0,
                 help="An engine step running longer than this fails its execution as "
                      "quarantined (0: never)."),
    cfg.FloatOpt("shutdown_timeout", default=4.5,
                 help="Seconds after SIGTERM/SIGINT at which wfaas-server exits even if "
                      "a step or request is still running (0: no deadline)."),
]

_GROUPS: dict[str | None, list[cfg.Opt]] = {
    None: default_opts + logging_opts,
    "action_heartbeat": action_heartbeat_opts,
    "api": api_opts,
    "database": database_opts,
    "engine": engine_opts,
    "executor": executor_opts,
    "scheduler": scheduler_opts,
    "action_std_http": action_std_http_opts,
    "egress": egress_opts,
    "action_std_ssh": action_std_ssh_opts,
    "expressions": expressions_opts,
    "yaql": yaql_opts,
    "pecan": pecan_opts,
    "openstack_actions": openstack_actions_opts,
    "cron_trigger": cron_trigger_opts,
    "event_engine": event_engine_opts,
    "dashboard": dashboard_opts,
    "metrics": metrics_opts,
    "execution_expiration_policy": execution_expiration_policy_opts,
    "actions": actions_opts,
    "limits": limits_opts,
}


def register_opts(conf: cfg.ConfigOpts = CONF) -> None:
    """Register every option group on ``conf`` (idempotent)."""
    for group, opts in _GROUPS.items():
        for opt in opts:
            try:
                conf.register_opt(opt, group=group)
            except cfg.DuplicateOptError:
                pass


def list_opts() -> list[tuple[str | None, Sequence[cfg.Opt]]]:
    """The entry point oslo-config-generator calls to write etc/wfaas.conf.sample."""
    return [(group, list(opts)) for group, opts in _GROUPS.items()]


def load(args: Sequence[str], *, prog: str, cli_opts: Sequence[cfg.Opt] = ()
         ) -> cfg.ConfigOpts:
    """Parse ``args`` into the process's :data:`CONF` and return it.

    ``args`` holds ``--config-file FILE`` (repeatable), ``--config-dir DIR`` and
    ``cli_opts``; without ``--config-file`` oslo.config's default locations are
    read (``~/.wfaas/wfaas.conf``, ``~/wfaas.conf``, ``/etc/wfaas/wfaas.conf``,
    ``/etc/wfaas.conf``). Every wfaas command calls this, so the same file means
    the same settings everywhere. Raises ``cfg.Error`` on a bad file or value.
    """
    CONF.clear()  # a second load in one process (tests) starts from scratch
    register_opts(CONF)
    CONF.register_cli_opts(list(cli_opts))
    CONF(list(args), project="wfaas", prog=prog)
    for group, opts in _GROUPS.items():  # every value now: a bad one fails the command
        node = CONF if group is None else getattr(CONF, group)  # at start, naming it
        for opt in opts:
            getattr(node, opt.dest)
    return CONF


def config_files(conf: cfg.ConfigOpts) -> list[str]:
    """The configuration files ``conf`` was loaded from (after --config-dir expansion)."""
    try:
        return [str(f) for f in conf.config_file or ()]
    except cfg.NoSuchOptError:
        return []


register_opts()
