"""A task kind declared the way the README tells developers to, known to the tests' server and worker
(through TASK_MODULES, see stack.py): it reports, can be cancelled, returns a result, raises on demand."""
import time

from server.task_api import task_kind

FAILURE = "step {step} went wrong"


@task_kind("test-steps", title="Test steps", description="Adds 1 + 2 + … + steps, one step at a time.",
           params={"type": "object", "additionalProperties": False, "required": ["steps"], "properties": {
               "steps": {"type": "integer", "title": "Steps", "minimum": 1, "maximum": 1000, "default": 5},
               "step_seconds": {"type": "number", "title": "Seconds a step", "minimum": 0, "maximum": 5,
                                "default": 0.25},
               "mode": {"type": "string", "title": "Mode", "default": "normal",
                        "enum": ["normal", "fail", "swallow-cancel", "not-json", "check"]},
           }},
           expected_seconds=lambda params: params["steps"] * params["step_seconds"])
def add_steps(task, steps, step_seconds, mode):
    """Add the numbers 1..steps, reporting after each; mode says how to misbehave."""
    total = 0
    for step in range(1, steps + 1):
        time.sleep(step_seconds)
        if mode == "fail" and step > steps // 2:
            raise ValueError(FAILURE.format(step=step))
        total += step
        if mode == "swallow-cancel":
            try:  # a body that catches every Exception must still stop when cancelled
                task.report(100 * step // steps, f"step {step} of {steps}")
            except Exception:
                pass
        elif mode == "check":
            task.check()  # stops the task here if it was cancelled, without reporting progress
        else:
            task.report(100 * step // steps, f"step {step} of {steps}")
    if mode == "not-json":
        return {"when": time}  # a module: not JSON
    return {"sum": total, "steps": steps}
