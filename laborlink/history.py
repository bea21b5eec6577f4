"""`audited`: the decorator that gives a model a database-written history table.

The triggers (insert, update and delete; statement level, see PGHISTORY_* in settings) copy
each changed row with the acting user and path into `<Model>History`; `laborlink.audit`
reads them. The history model is named `<Model>History` because several tracked models
already have a `…Event` model of their own (a booking's, a placement's business events).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import pghistory
import pghistory.runtime
from django.db import models


def audited(model_name: str) -> Callable[[type[models.Model]], type[models.Model]]:
    # New tracker objects for each model: pgtrigger compares operations by identity, which a
    # copied tracker (PGHISTORY_DEFAULT_TRACKERS is deep-copied) would break at statement level.
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        model_name=model_name,
        obj_field=pghistory.ObjForeignKey(related_name="history", db_index=True),
    )


_MISSING = object()


def _as_actor(function: Callable) -> Callable:
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        actor_pk = getattr(kwargs.get("actor"), "pk", None)
        if actor_pk is None:
            return function(*args, **kwargs)
        outer = getattr(pghistory.runtime._tracker, "value", None)
        previous = outer.metadata.get("user", _MISSING) if outer is not None else _MISSING
        try:
            with pghistory.context(user=actor_pk):
                return function(*args, **kwargs)
        finally:
            # Inside a request's or a task's context, what comes after this service is not
            # the actor's doing: give the context its user back.
            if outer is not None:
                if previous is _MISSING:
                    outer.metadata.pop("user", None)
                else:
                    outer.metadata["user"] = previous

    return wrapper


def attribute_services_to_actor(namespace: dict) -> None:
    """Make every service of a module (a function of it taking `actor`) attribute the rows it
    writes to that actor, also when it is called outside a request: from a task, the shell, a
    management command. Called once at the end of a services module with `globals()`."""
    module = namespace["__name__"]
    for name, value in list(namespace.items()):
        if (
            inspect.isfunction(value)
            and value.__module__ == module
            and not name.startswith("_")
            and "actor" in inspect.signature(value).parameters
        ):
            namespace[name] = _as_actor(value)
