"""Task lifecycle: policies, actions, with-items, completion and publishing."""

from __future__ import annotations

from typing import Any

from wfaas.engine import dataflow, states, workflow
from wfaas.engine import retry as retry_policy
from wfaas.engine.commands import RETRY, TIMEOUT, WAIT_AFTER, WAIT_BEFORE, RunAction
from wfaas.engine.commands import StartSubWorkflow as StartSubWorkflowCmd
from wfaas.engine.dataflow import EngineFunctions, EvalFailure
from wfaas.engine.model import ActionState, TaskState
from wfaas.engine.step import Step
from wfaas.engine.withitems import WithItems
from wfaas.lang.specs import TaskSpec


def _eval(step: Step, task: TaskState, value: Any, what: str,
          data: dict[str, Any] | None = None, fc: EngineFunctions | None = None) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if data is None:
        data = dataflow.task_data(step.st, task)
    return dataflow.evaluate(value, data, fc or EngineFunctions(step.st, task),
                             f"{what} of task '{task.name}'")


def _seconds(step: Step, task: TaskState, value: Any, what: str) -> float:
    v = _eval(step, task, value, what)
    if v is None or v == "":
        return 0.0
    try:
        return float(v)
    except (TypeError, ValueError):
        raise EvalFailure(
            f"Invalid value of '{what}' in task '{task.name}': {v!r} is not a number") from None


# ---- start ---------------------------------------------------------------------------
def _policy_values(spec: TaskSpec) -> list[tuple[str, str, Any, str]]:
    out = [("WaitBeforePolicy", "wait-before", spec.wait_before, "integer"),
           ("WaitAfterPolicy", "wait-after", spec.wait_after, "integer"),
           ("TimeoutPolicy", "timeout", spec.timeout, "integer"),
           ("PauseBeforePolicy", "pause-before", spec.pause_before, "boolean")]
    if spec.retry is not None:
        out += [("RetryPolicy", "retry count", spec.retry.count, "integer"),
                ("RetryPolicy", "retry delay", spec.retry.delay, "integer")]
    if spec.with_items is not None:
        out.append(("ConcurrencyPolicy", "concurrency", spec.concurrency, "integer"))
    return out


def check_policies(step: Step, task: TaskState, spec: TaskSpec) -> None:
    """Like Mistral, a policy given as an expression must evaluate to a non-negative
    integer (pause-before: a boolean) before the task runs; raises EvalFailure."""
    if spec.retry is None and spec.with_items is None and not (
            isinstance(spec.wait_before, str) or isinstance(spec.wait_after, str)
            or isinstance(spec.timeout, str) or isinstance(spec.pause_before, str)):
        return  # the common task: no policy given as text (checked per task start)
    for policy, what, raw, kind in _policy_values(spec):
        if not isinstance(raw, str) or not dataflow.has_expr(raw):
            continue
        value = _eval(step, task, raw, what)
        if kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok:
            raise EvalFailure(f"Invalid data type in {policy}: {value!r} is not of type "
                              f"'{kind}'")
        if kind == "integer" and value < 0:
            raise EvalFailure(f"Invalid data type in {policy}: {value!r} is less than the "
                              f"minimum of 0")


def start_task(step: Step, task: TaskState, *, skip_pause: bool = False,
               skip_wait: bool = False) -> None:
    """Start a created (IDLE or WAITING) task: pause-before, wait-before, then run."""
    if not step.running():
        if task.state != states.IDLE:
            step.set_task(task, states.IDLE, task.state_info)
        step.defer({"op": "start", "task_id": task.id, "skip_pause": skip_pause})
        return
    spec = step.task_spec(task)
    try:
        check_policies(step, task, spec)
        if not skip_pause and spec.pause_before is not None and \
                _eval(step, task, spec.pause_before, "pause-before"):
            if task.state != states.IDLE:
                step.set_task(task, states.IDLE, "Set by 'pause-before' policy")
            else:
                task.state_info = "Set by 'pause-before' policy"
                step.st.touch_task(task)
            workflow.pause(step)
            step.defer({"op": "start", "task_id": task.id, "skip_pause": True})
            return
        delay = 0.0 if skip_wait else _seconds(step, task, spec.wait_before, "wait-before")
        if delay > 0:
            step.set_task(task, states.RUNNING_DELAYED,
                          f"Delayed by 'wait-before' policy [delay={_num(delay)}]")
            step.schedule(WAIT_BEFORE, task, delay)
            return
        launch(step, task)
    except EvalFailure as e:
        fail_task(step, task, e.message)


def launch(step: Step, task: TaskState, todo: list[int] | None = None) -> None:
    """Run the task's action(s) for its current attempt (raises EvalFailure).

    ``todo`` (with-items rerun without reset) lists the iterations to run again.
    """
    spec = step.task_spec(task)
    if task.state != states.RUNNING:
        step.set_task(task, states.RUNNING)
    else:
        step.st.touch_task(task)
    timeout = _seconds(step, task, spec.timeout, "timeout")
    if timeout:
        task.runtime["timeout"] = timeout
    else:  # no key: a task's runtime_context is {} as in Mistral
        task.runtime.pop("timeout", None)
    if timeout > 0:
        step.schedule(TIMEOUT, task, timeout)
    if spec.with_items is not None:
        _launch_items(step, task, spec, todo)
        return
    data = dataflow.task_data(step.st, task)
    _run_one(step, task, spec, data, 0)


def _action_input(step: Step, task: TaskState, spec: TaskSpec, data: dict[str, Any],
                  fc: EngineFunctions, action: str) -> dict[str, Any]:
    inline = _eval(step, task, spec.inline_input, "input", data, fc) if spec.inline_input \
        else {}
    raw = spec.input
    if isinstance(raw, dict) and inline:
        # Mistral merges the inline parameters over ``input`` before evaluating anything.
        raw = {k: v for k, v in raw.items() if k not in inline}
    given = _eval(step, task, raw, "input", data, fc) if raw is not None else {}
    if not isinstance(given, dict):
        raise EvalFailure(f"Input of task '{task.name}' must be a dictionary, "
                          f"got {type(given).__name__}: {given!r}")
    merged = {**given, **inline}
    if spec.type == "action":
        defaults = (step.st.env.get("__actions") or {}).get(action) \
            if isinstance(step.st.env, dict) else None
        if isinstance(defaults, dict):
            for k, v in defaults.items():
                merged.setdefault(k, v)
    return merged


def _run_one(step: Step, task: TaskState, spec: TaskSpec, data: dict[str, Any],
             index: int) -> None:
    st = step.st
    fc = EngineFunctions(st, task)
    is_wf = spec.type == "workflow"
    raw_name = spec.workflow if is_wf else spec.action_name
    name = _eval(step, task, raw_name, "workflow" if is_wf else "action", data, fc)
    if not isinstance(name, str) or not name:
        raise EvalFailure(f"Task '{task.name}': the action or workflow name evaluated "
                          f"to {name!r}")
    inp = _action_input(step, task, spec, data, fc, name)
    aid = st.new_id()
    st.add_action(ActionState(id=aid, task_id=task.id, name=name, state=states.RUNNING,
                              is_workflow=is_wf, index=index, attempt=task.attempt,
                              input=inp, created_at=step.now, updated_at=step.now))
    if is_wf:
        params: dict[str, Any] = {
            "env": st.env, "task_execution_id": task.id,
            "root_execution_id": st.root_execution_id or st.id, "index": index}
        for key in ("namespace", "notify"):
            if key in st.params:
                params[key] = st.params[key]
        step.emit(StartSubWorkflowCmd(execution_id=aid, task_id=task.id, task_name=task.name,
                                      workflow_name=name, input=inp, params=params,
                                      index=index))
        return
    target = _eval(step, task, spec.target, "target", data, fc)
    safe = _eval(step, task, spec.safe_rerun, "safe-rerun", data, fc)
    step.emit(RunAction(action_id=aid, task_id=task.id, task_name=task.name, action=name,
                        input=inp, target=None if target is None else str(target),
                        timeout=task.runtime.get("timeout"), safe_rerun=bool(safe),
                        index=index, rerun_no=task.rerun_no))


# ---- with-items ----------------------------------------------------------------------
def _items(step: Step, task: TaskState, spec: TaskSpec) -> dict[str, list[Any]]:
    cached = step.st.items_cache.get(task.id)
    if cached is not None:
        return cached
    assert spec.with_items is not None
    data = dataflow.task_data(step.st, task)
    fc = EngineFunctions(step.st, task)
    items: dict[str, list[Any]] = {}
    for var, raw in spec.with_items.items:
        value = _eval(step, task, raw, "with-items", data, fc)
        if isinstance(value, str | dict):
            value = list(value)  # Mistral iterates any iterable: characters, keys
        if not isinstance(value, list | tuple):
            raise EvalFailure(
                f"Wrong input format for 'with-items' of task '{task.name}': "
                f"'{var}' must be a list, got {type(value).__name__}: {value!r}")
        items[var] = list(value)
    lengths = {len(v) for v in items.values()}
    if len(lengths) > 1:
        raise EvalFailure(
            f"Invalid 'with-items' of task '{task.name}': all arrays must have the same "
            f"length, got {dict((k, len(v)) for k, v in items.items())}")
    step.st.items_cache[task.id] = items
    return items


def _launch_items(step: Step, task: TaskState, spec: TaskSpec,
                  todo: list[int] | None = None) -> None:
    items = _items(step, task, spec)
    count = len(next(iter(items.values()))) if items else 0
    conc = _eval(step, task, spec.concurrency, "concurrency")
    try:
        conc_n = int(conc or 0)
    except (TypeError, ValueError):
        raise EvalFailure(f"Invalid concurrency of task '{task.name}': {conc!r}") from None
    old = task.with_items
    base = task.attempt if todo is None or old is None else old.base
    task.with_items = WithItems(count=count, todo=todo, conc=conc_n, base=base)
    if count == 0 or (todo is not None and not todo):
        result_ready(step, task, states.SUCCESS,
                     dataflow.collect_items(step.st, task) if count else [], None)
        return
    refill(step, task)


def refill(step: Step, task: TaskState) -> None:
    """Start as many pending iterations as concurrency allows."""
    wi = task.with_items
    assert wi is not None, "refill of a task without with-items"
    total = wi.total
    if wi.pos >= total:
        return
    if not step.running():
        step.defer({"op": "refill", "task_id": task.id})
        return
    spec = step.task_spec(task)
    items = _items(step, task, spec)
    base = dataflow.task_data(step.st, task)
    conc = wi.conc
    while wi.pos < total and (conc <= 0 or wi.running < conc):
        idx = wi.next_index()
        data = dict(base)
        for var, values in items.items():
            data[var] = values[idx]
        _run_one(step, task, spec, data, idx)
    step.st.touch_task(task)


# ---- completion ----------------------------------------------------------------------
def on_action_done(step: Step, action: ActionState) -> None:
    """An action of ``task`` finished (its state and result are already recorded)."""
    task = step.st.tasks.get(action.task_id)
    if task is None or action.attempt != task.attempt or \
            task.state not in (states.RUNNING, states.PAUSED):
        return
    if task.state == states.PAUSED:
        step.set_task(task, states.RUNNING)
    wi = task.with_items
    try:
        if wi is None:
            info = None
            if action.is_workflow:  # the child's output result (core._subworkflow_info)
                info = action.state_info if action.state != states.SUCCESS else None
            elif action.state == states.ERROR:
                info = action.state_info or str(action.result)
            elif action.state == states.CANCELLED:
                info = action.state_info or "Cancelled"
            result_ready(step, task, action.state, action.result, info)
            return
        _item_done(step, task, action, wi)
    except EvalFailure as e:
        fail_task(step, task, e.message, action=action.name)


def _item_done(step: Step, task: TaskState, action: ActionState, wi: WithItems) -> None:
    over = wi.record(action.state)
    step.st.touch_task(task)
    if not over:
        refill(step, task)
        return
    if wi.cancel:
        result_ready(step, task, states.CANCELLED, None, "One or more actions was cancelled.")
    elif wi.err:
        result_ready(step, task, states.ERROR, dataflow.collect_items(step.st, task),
                     "One or more actions had failed.")
    else:
        result_ready(step, task, states.SUCCESS, dataflow.collect_items(step.st, task), None)


class _TentativeFunctions(EngineFunctions):
    """Functions that show the current task with its not yet stored state, state_info and
    result (Mistral stores them before it publishes)."""

    def __init__(self, step: Step, task: TaskState, state: str, result: Any,
                 info: str | None = None) -> None:
        super().__init__(step.st, task)
        self._state = state
        self._result = result
        self._info = info

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        d = super().task(name)
        if d is not None and self.current is not None and d["id"] == self.current.id:
            d["state"], d["state_info"] = self._state, self._info
            d["result"] = self._result
        return d

    def tasks(self, workflow_execution_id: str | None = None, recursive: bool = False,
              state: str | None = None, flat: bool = False) -> list[dict[str, Any]]:
        """As Mistral, the current task already has its new state in ``tasks()``."""
        out = []
        for d in super().tasks(workflow_execution_id, recursive, None, flat):
            if self.current is not None and d["id"] == self.current.id:
                d["state"], d["result"] = self._state, self._result
                d["state_info"] = self._info
            if state is None or d["state"] == state:
                out.append(d)
        return out


def result_ready(step: Step, task: TaskState, state: str, result: Any,
                 info: str | None) -> None:
    """An attempt finished: Mistral's order is wait-after, publish, fail-on, retry.

    The wait-after delay comes first (the rest happens when its timer fires),
    then the publish of the attempt's state, then fail-on (which keeps what was
    published on success), then retry (its expressions see the published
    values).  Finally the task gets its state and its transitions run.
    """
    spec = step.task_spec(task)
    published: dict[str, Any] = {}
    glob: dict[str, Any] = {}
    if state != states.CANCELLED:
        try:
            if task.runtime.get("after_attempt") != task.attempt:
                delay = _seconds(step, task, spec.wait_after, "wait-after")
                if delay > 0:
                    step.cancel_timers(task, (TIMEOUT,))
                    task.runtime["after_attempt"] = task.attempt
                    task.runtime["after"] = {"state": state, "info": info}
                    task.result = result
                    step.set_task(task, states.RUNNING_DELAYED,
                                  f"Delayed by 'wait-after' policy [delay={_num(delay)}]")
                    step.schedule(WAIT_AFTER, task, delay)
                    return
            fc = _TentativeFunctions(step, task, state, result, info)
            published, glob = _publish_values(step, task, state, fc)
            task.published = published if isinstance(published, dict) else task.published
            # Mistral evaluates fail-on after any attempt, and acts on a success only
            if spec.fail_on is not None and state in (states.SUCCESS, states.ERROR) and \
                    _eval(step, task, spec.fail_on, "fail-on", None, fc) and \
                    state == states.SUCCESS:
                state, info = states.ERROR, "Failed by 'fail-on' policy"
            if spec.retry is not None and state in (states.SUCCESS, states.ERROR) and \
                    _retry(step, task, spec, state, (result, info), published):
                return
        except EvalFailure as e:
            task.result = result
            fail_task(step, task, e.message, action=action_name(step, task))
            return
    finish_task(step, task, state, info, result, (published, glob))


def _num(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def _join_info(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def _retry(step: Step, task: TaskState, spec: TaskSpec, state: str,
           outcome: tuple[Any, str | None], published: dict[str, Any]) -> bool:
    """Mistral's retry policy (plus wfaas's backoff and on-errors, :mod:`.retry`);
    True when a new attempt was scheduled or started."""
    r = spec.retry
    assert r is not None
    result, info = outcome
    old_published = task.published
    task.published = published
    dataflow.invalidate(step.st, task)
    try:
        data = dataflow.task_data(step.st, task, out=True)
        fc = _TentativeFunctions(step, task, state, result, info)
        count = _eval(step, task, r.count, "retry count", data, fc)
        break_on = _eval(step, task, r.break_on, "retry break-on", data, fc)
        continue_on = _eval(step, task, r.continue_on, "retry continue-on", data, fc)
        delay = _seconds(step, task, r.delay, "retry delay")
    finally:
        task.published = old_published
        dataflow.invalidate(step.st, task)
    try:
        retries_remain = task.retry_no < int(count or 0)
    except (TypeError, ValueError):
        raise EvalFailure(f"Invalid retry count of task '{task.name}': {count!r}") from None
    stop_continue = (state == states.SUCCESS and r.continue_on is None) or \
        (r.continue_on is not None and not continue_on)
    if not retries_remain or (state == states.ERROR and break_on) or stop_continue:
        return False
    if state == states.ERROR and not retry_policy.error_matches(r.on_errors, result, info):
        return False
    delay = _backoff(step, task, r, delay)
    task.retry_no += 1
    step.cancel_timers(task, (TIMEOUT,))
    if delay > 0:
        task.result = None
        step.set_task(task, states.RUNNING_DELAYED,
                      f"Delayed by 'retry' policy [delay={_num(delay)}]")
        step.schedule(RETRY, task, delay)
    else:
        new_attempt(step, task)
    return True


def _backoff(step: Step, task: TaskState, r: Any, delay: float) -> float:
    """The wait before the next retry under the wfaas backoff options (Mistral: ``delay``)."""
    if r.backoff is None and r.max_delay is None and not r.jitter:
        return delay
    values = {k: _eval(step, task, getattr(r, k), f"retry {k.replace('_', '-')}")
              for k in ("backoff", "multiplier", "max_delay", "jitter")}
    try:
        return retry_policy.retry_delay(
            delay, task.retry_no + 1, backoff=values["backoff"],
            multiplier=None if values["multiplier"] is None else float(values["multiplier"]),
            max_delay=None if values["max_delay"] is None else float(values["max_delay"]),
            jitter=values["jitter"], seed=f"{task.id}:{task.attempt}")
    except (TypeError, ValueError) as exc:
        raise EvalFailure(f"Invalid retry policy of task '{task.name}': {exc}") from None


def new_attempt(step: Step, task: TaskState) -> None:
    """Run the whole task again (retry): a new attempt, all iterations."""
    task.attempt += 1
    task.result = None
    task.with_items = None
    step.st.items_cache.pop(task.id, None)
    try:
        launch(step, task)
    except EvalFailure as e:
        fail_task(step, task, e.message)


def _publish_values(step: Step, task: TaskState, state: str,
                    fc: EngineFunctions) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = step.task_spec(task)
    if state == states.SUCCESS:
        branch, clause = dict(spec.publish), spec.on_success
    elif state == states.ERROR:
        branch, clause = dict(spec.publish_on_error), spec.on_error
    elif state == states.SKIPPED:
        branch, clause = dict(spec.publish_on_skip), spec.on_skip
    else:
        return {}, {}
    glob: dict[str, Any] = {}
    for c in (spec.on_complete if state != states.SKIPPED else None, clause):
        if c is not None and c.publish is not None:
            branch.update(c.publish.branch)
            glob.update(c.publish.global_)
    if not branch and not glob:
        return {}, {}
    data = dataflow.task_data(step.st, task)
    published = _eval(step, task, branch, "publish", data, fc) if branch else {}
    g = _eval(step, task, glob, "global publish", data, fc) if glob else {}
    return published, g


def finish_task(step: Step, task: TaskState, state: str, info: str | None, result: Any,
                publish: tuple[dict[str, Any], dict[str, Any]] | None = None) -> None:
    """Store the result and what was published, set the final state, follow transitions.

    ``publish`` is the (branch, global) pair already evaluated by result_ready;
    None means evaluate it here (skip, join failure, user-caused failure).
    """
    from wfaas.engine import graph  # graph starts tasks: imported late to avoid a cycle

    st = step.st
    spec = step.task_spec(task)
    fc = _TentativeFunctions(step, task, state, result, info)
    if publish is None:
        try:
            publish = _publish_values(step, task, state, fc)
        except EvalFailure as e:
            publish = ({}, {})
            info = _join_info(info if state == states.ERROR else None, e.message)
            state = states.ERROR
    published, glob = publish
    # Mistral does not evaluate keep-result: only a literal false drops the result, and
    # only an action's (a sub-workflow's output is always kept)
    keep = spec.keep_result if not isinstance(spec.keep_result, str) else True
    if spec.type == "workflow":
        keep = True
    task.published = published if isinstance(published, dict) else {"published": published}
    if glob:
        st.context = {**st.context, **glob}
    task.result = result if (keep or keep is None) else None
    if task.result is None and state == states.ERROR and not st.by_task.get(task.id):
        task.result = []  # Mistral's result of a task that never ran an action
    task.runtime.pop("after", None)
    dataflow.invalidate(st, task)
    step.cancel_timers(task)
    if task.state != state:
        step.set_task(task, state, info)
    else:
        task.state_info = info
        st.touch_task(task)
    if not states.is_terminal(st.state):
        graph.after_task(step, task)


def fail_task(step: Step, task: TaskState, msg: str, *, action: str | None = None) -> None:
    """Fail a task because of a user mistake (bad expression, bad input): like Mistral,
    the task goes to ERROR and the whole workflow fails with the same message (no
    transition of the task runs).  ``action`` names the action whose completion was
    being handled (None: the task could not be started)."""
    workflow.cancel_children(step, task, msg)
    if task.state in (states.SUCCESS, states.SKIPPED, states.CANCELLED):
        return
    force_fail(step, task, msg, action)


def force_fail(step: Step, task: TaskState, msg: str, action: str | None) -> None:
    """Task ERROR and workflow ERROR with Mistral's 'Failed to run task' / 'Failed to
    handle action completion' text, whatever state the task had."""
    wf_name = step.spec.name
    if action is None:
        text = f"Failed to run task [error={msg}, wf={wf_name}, task={task.name}]"
    else:
        text = (f"Failed to handle action completion [error={msg}, wf={wf_name}, "
                f"task={task.name}, action={action}]")
    step.cancel_timers(task)
    task.runtime.pop("after", None)
    if not step.st.by_task.get(task.id):
        task.result = []  # Mistral's result of a task without action executions
    if task.state != states.ERROR:
        step.set_task(task, states.ERROR, text, force=True)
    else:
        task.state_info = text
        step.st.touch_task(task)
    task.processed = True
    task.error_handled = False
    dataflow.invalidate(step.st, task)
    workflow.fail(step, text)


def action_name(step: Step, task: TaskState) -> str:
    """Name of the action (or sub-workflow) of the task's latest action execution."""
    ids = step.st.by_task.get(task.id, ())
    return step.st.actions[ids[-1]].name if ids else str(step.task_spec(task).action_name)


# ---- timers --------------------------------------------------------------------------
def on_timer(step: Step, kind: str, task: TaskState) -> None:
    """A task timer fired (already removed from ``state.timers``)."""
    if kind == TIMEOUT:
        if task.state in (states.RUNNING, states.PAUSED):
            secs = task.runtime.get("timeout")
            msg = f"Task timed out [timeout(s)={_num(secs) if secs else secs}]."
            workflow.cancel_children(step, task, msg)
            result_ready(step, task, states.ERROR, None, msg)
        return
    if task.state != states.RUNNING_DELAYED:
        return
    if kind == WAIT_BEFORE:
        try:
            launch(step, task)
        except EvalFailure as e:
            fail_task(step, task, e.message)
    elif kind == RETRY:
        new_attempt(step, task)
    elif kind == WAIT_AFTER:
        after = task.runtime.pop("after", None) or {"state": states.SUCCESS, "info": None}
        result_ready(step, task, after["state"], task.result, after["info"])
