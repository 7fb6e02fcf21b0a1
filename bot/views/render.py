"""Block Kit objects to the JSON Slack takes, without slack_sdk's run-time validation.

slack_sdk's `to_dict` runs every validator of every object, then converts each nested object
again for every level above it. Our builders are held to slack_sdk's validators and to Slack's
limits in `tests/views` (every builder, every state), and those tests also check that
`render(x) == x.to_dict()`, so at run time we only serialise.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_BASE_TO_DICT = JsonObject.to_dict
_EMPTY_ALLOWED = frozenset(
    (entry["type"], entry["property"]) for entry in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST
)
_OWN_TO_DICT: dict[type, bool] = {}
_ATTRIBUTES: dict[type, tuple[str, ...]] = {}


def render(obj: JsonObject) -> dict[str, Any]:
    """`obj.to_dict()`, the same dict, minus the validation (see the module doc)."""
    cls = type(obj)
    custom = _OWN_TO_DICT.get(cls)
    if custom is None:
        custom = _OWN_TO_DICT[cls] = cls.to_dict is not _BASE_TO_DICT
    if custom:  # Option, ConfirmObject, ViewState…: their own shape; few and small
        return {key: _value(value) for key, value in obj.to_dict().items()}
    keys = _ATTRIBUTES.get(cls)
    if keys is None:  # a property building a set per call, though the same for each class
        keys = _ATTRIBUTES[cls] = tuple(sorted(obj.attributes))
    kind = getattr(obj, "type", None)
    out: dict[str, Any] = {}
    for key in keys:
        value = obj.get_object_attribute(key)
        if value is None:
            continue
        if (kind, key) not in _EMPTY_ALLOWED and hasattr(value, "__len__") and not len(value):
            continue
        out[key] = _value(value)
    return out


def render_all(objects: list[Any]) -> list[dict[str, Any]]:
    """`render` over a list of blocks."""
    return [render(obj) for obj in objects]


def _value(value: Any) -> Any:
    if isinstance(value, JsonObject):
        return render(value)
    if isinstance(value, (list, tuple)):
        return [_value(item) for item in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):  # not a JsonObject but dict-able (slack_sdk has a few)
        return {key: _value(item) for key, item in to_dict().items()}
    return value
