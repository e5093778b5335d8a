"""One ``decide`` call: the spec, the state, ``now`` and the commands produced."""

from __future__ import annotations

from typing import Any

from wfaas.engine import states
from wfaas.engine.commands import CancelTimer, Command, Notify, ScheduleTimer
from wfaas.engine.model import ActionState, TaskState, TimerState, WorkflowState
from wfaas.lang.specs import TaskSpec, WorkflowSpec

TASK_NOTIFY = {
    states.SUCCESS: "TASK_SUCCEEDED", states.ERROR: "TASK_FAILED",
    states.CANCELLED: "TASK_CANCELLED", states.SKIPPED: "TASK_SKIPPED",
    states.PAUSED: "TASK_PAUSED",
}
WF_NOTIFY = {
    states.SUCCESS: "WORKFLOW_SUCCEEDED", states.ERROR: "WORKFLOW_FAILED",
    states.CANCELLED: "WORKFLOW_CANCELLED", states.PAUSED: "WORKFLOW_PAUSED",
}


class Step:
    """Mutable scratch pad of one decide call (not persisted)."""

    def __init__(self, spec: WorkflowSpec, st: WorkflowState, now: float) -> None:
        self.spec = spec
        self.st = st
        self.now = now
        self.cmds: list[Command] = []

    # ---- helpers ----------------------------------------------------------------------
    def emit(self, cmd: Command) -> None:
        """Append a command for the shell."""
        self.cmds.append(cmd)

    def task_spec(self, task: TaskState) -> TaskSpec:
        """The spec of a task execution."""
        return self.spec.tasks[task.name]

    def running(self) -> bool:
        """Whether the workflow may start new work."""
        return self.st.state == states.RUNNING

    def set_task(self, task: TaskState, new: str, info: str | None = None, *,
                 keep_info: bool = False, force: bool = False) -> None:
        """Change a task's state through the transition table (``force``: bypass it, for
        a finished task failed by an error in its transitions, as Mistral does)."""
        old = task.state
        if not force:
            states.check_task(task.name, old, new)
        task.state = new
        if not keep_info:
            task.state_info = info
        task.updated_at = self.now
        self.st.touch_task(task)
        if old != new:
            if new in TASK_NOTIFY:
                self.emit(Notify(event=TASK_NOTIFY[new], task_id=task.id))
            elif new == states.RUNNING and old == states.PAUSED:
                self.emit(Notify(event="TASK_RESUMED", task_id=task.id))
            elif new == states.RUNNING and old in (states.IDLE, states.WAITING):
                self.emit(Notify(event="TASK_LAUNCHED", task_id=task.id))

    def set_action(self, action: ActionState, new: str) -> None:
        """Change an action execution's state through the action table."""
        states.check_action(action.id, action.state, new)
        action.state = new
        action.updated_at = self.now
        self.st.changed_action_ids.add(action.id)

    def set_wf(self, new: str, info: str | None = None) -> None:
        """Change the workflow state through the transition table."""
        st = self.st
        old = st.state
        states.check_workflow(st.workflow_name, old, new)
        st.state = new
        st.state_info = info
        st.updated_at = self.now
        if old != new:
            if new in WF_NOTIFY:
                self.emit(Notify(event=WF_NOTIFY[new]))
            elif new == states.RUNNING:
                event = "WORKFLOW_RESUMED" if old == states.PAUSED else (
                    "WORKFLOW_LAUNCHED" if old == states.IDLE else "WORKFLOW_RERUN")
                self.emit(Notify(event=event))

    def new_task(self, name: str, state: str, upstream: list[str], **kw: Any) -> TaskState:
        """Create and register a task execution."""
        spec = self.spec.tasks[name]
        tid = self.st.new_id()
        task = TaskState(id=tid, name=name, state=state, type=spec.type, upstream=upstream,
                         created_at=self.now, updated_at=self.now, **kw)
        self.st.add_task(task)
        return task

    # ---- timers ----------------------------------------------------------------------
    def schedule(self, kind: str, task: TaskState, delay: float) -> str:
        """Schedule a timer ``delay`` seconds from now for ``task``."""
        tid = self.st.new_id()
        due = self.now + max(0.0, float(delay))
        self.st.timers[tid] = TimerState(id=tid, kind=kind, task_id=task.id, due=due)
        self.emit(ScheduleTimer(timer_id=tid, due=due, timer_kind=kind, task_id=task.id))
        return tid

    def cancel_timers(self, task: TaskState, kinds: tuple[str, ...] | None = None) -> None:
        """Cancel the pending timers of ``task`` (all, or only those ``kinds``)."""
        for tid in [k for k, t in self.st.timers.items()
                    if t.task_id == task.id and (kinds is None or t.kind in kinds)]:
            del self.st.timers[tid]
            self.emit(CancelTimer(timer_id=tid))

    def defer(self, item: dict[str, Any]) -> None:
        """Remember work to do when the (paused) workflow resumes (once)."""
        if item not in self.st.pending:
            self.st.pending.append(item)
