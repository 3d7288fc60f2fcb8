"""`pkg/manifest.json`: the exact schema a Hyperware node parses (runtime-contract.md §2.2).

Why strict: the app store deserializes the manifest with serde and no defaults, so a missing field,
a `"true"` string for a bool or an unknown `on_exit` form fails the install on a real node. These
models accept exactly what Hyperdrive accepts (and reject unknown fields, which are always typos),
so `hyperpy build` writes only valid manifests and `hyperpy check` / the local node reject the same
inputs a real node would, with a message naming the field and the fix.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from hyperpy.package.names import (
    parse_address,
    parse_process_id,
    validate_process_name,
    validate_wasm_path,
)
from hyperpy.package.problems import Problem, decode_json, problems_from_validation_error, render

MANIFEST_FILE = "manifest.json"


class ManifestError(ValueError):
    """The manifest is not what a node accepts. `problems` has one entry per field."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(render(problems))


def _checked_process_id(value: str) -> str:
    parse_process_id(value, "capability")
    return value


def _checked_address(value: str) -> str:
    parse_address(value, "target address")
    return value


ProcessIdText = Annotated[StrictStr, AfterValidator(_checked_process_id)]
Byte = Annotated[StrictInt, Field(ge=0, le=255)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CapabilityGrant(_Strict):
    """Object form of a capability entry: `params` is any JSON value, stored by the node as JSON text."""

    process: ProcessIdText
    params: Any = Field(...)


def _capability_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "process-id"
    if isinstance(value, dict | CapabilityGrant):
        return "grant"
    return None


CapabilityEntry = Annotated[
    Annotated[ProcessIdText, Tag("process-id")] | Annotated[CapabilityGrant, Tag("grant")],
    Discriminator(
        _capability_form,
        custom_error_type="capability_entry",
        custom_error_message=(
            'a capability is a process id string ("http-server:distro:sys") '
            'or an object {"process": "vfs:distro:sys", "params": {...}}'
        ),
    ),
]


class OnExitRequestBody(_Strict):
    """A request fired when the process exits (the `request` element of an on_exit Requests triple)."""

    inherit: StrictBool
    expects_response: Annotated[StrictInt, Field(ge=0)] | None
    body: list[Byte]
    metadata: StrictStr | None
    capabilities: list[Any]

    @field_validator("capabilities")
    @classmethod
    def _no_capabilities(cls, value: list[Any]) -> list[Any]:
        if value:
            raise ValueError(
                "must be empty [] (process_lib and Hyperdrive disagree on the shape of attached "
                "capabilities, so a non-empty list does not parse on every node)"
            )
        return value


class OnExitBlob(_Strict):
    mime: StrictStr | None
    bytes: list[Byte]


AddressText = Annotated[StrictStr, AfterValidator(_checked_address)]
OnExitRequest = tuple[AddressText, OnExitRequestBody, OnExitBlob | None]


class OnExitRequests(_Strict):
    """`{"Requests": [[address, request, blob|null], ...]}`: send these, then stop."""

    Requests: list[OnExitRequest]


def on_exit_discriminator(requests_model: type[BaseModel], requests_form: str) -> Discriminator:
    """Tell "None" | "Restart" | a `{"Requests": ...}` object apart, with one message for wrong values.

    Without it pydantic reports one error per union member. The project config reuses it with its
    TOML-friendly requests model.
    """

    def form(value: Any) -> str | None:
        if value in ("None", "Restart"):
            return "exit-simple"
        if isinstance(value, dict | requests_model):
            return "exit-requests"
        return None

    return Discriminator(
        form,
        custom_error_type="on_exit_form",
        custom_error_message=f'on_exit must be "None", "Restart" or {requests_form}',
    )


OnExit = Annotated[
    Annotated[Literal["None", "Restart"], Tag("exit-simple")]
    | Annotated[OnExitRequests, Tag("exit-requests")],
    on_exit_discriminator(OnExitRequests, '{"Requests": [[address, request, blob]]}'),
]


class ManifestEntry(_Strict):
    """One process of the package; all seven fields are required, as in Hyperdrive."""

    process_name: Annotated[StrictStr, AfterValidator(validate_process_name)]
    process_wasm_path: Annotated[StrictStr, AfterValidator(validate_wasm_path)]
    on_exit: OnExit
    request_networking: StrictBool
    request_capabilities: list[CapabilityEntry]
    grant_capabilities: list[CapabilityEntry]
    public: StrictBool

    @property
    def wasm_file_name(self) -> str:
        """The wasm file name inside `pkg/` (the path without its leading `/`)."""
        return self.process_wasm_path.lstrip("/")


MANIFEST_FIELDS = tuple(ManifestEntry.model_fields)
_KNOWN_FIELDS = (
    *MANIFEST_FIELDS,
    *OnExitRequestBody.model_fields,
    *OnExitBlob.model_fields,
    *CapabilityGrant.model_fields,
    "Requests",
)
_MANIFEST_ADAPTER = TypeAdapter(list[ManifestEntry])


def parse_manifest(data: bytes | str, source: str = "pkg/manifest.json") -> list[ManifestEntry]:
    """Parse manifest JSON text; raise ManifestError listing every problem as `source: field: problem`."""
    raw, problem = decode_json(data, source)
    if problem is not None:
        raise ManifestError([problem])
    return manifest_from_data(raw, source)


def manifest_from_data(raw: Any, source: str = "pkg/manifest.json") -> list[ManifestEntry]:
    """Validate already-decoded JSON data as a manifest (see parse_manifest)."""
    if not isinstance(raw, list):
        raise ManifestError(
            [Problem(source, "", "the manifest must be a JSON array of process entries", "wrap it in [...]")]
        )
    try:
        entries = _MANIFEST_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise ManifestError(problems_from_validation_error(exc, source, known_fields=_KNOWN_FIELDS)) from None
    problems = _duplicate_names(entries, source)
    if problems:
        raise ManifestError(problems)
    return entries


def _duplicate_names(entries: list[ManifestEntry], source: str) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(entries):
        if entry.process_name in seen:
            problems.append(
                Problem(
                    source,
                    f"[{index}].process_name",
                    f"process {entry.process_name!r} is already declared at [{seen[entry.process_name]}]",
                    "give every process its own name",
                )
            )
        seen.setdefault(entry.process_name, index)
    return problems


def manifest_to_data(entries: list[ManifestEntry]) -> list[dict[str, Any]]:
    """The JSON-ready form of the manifest (tuples become arrays, field order as in Hyperdrive)."""
    return [entry.model_dump(mode="json") for entry in entries]


def manifest_json(entries: list[ManifestEntry]) -> str:
    """Deterministic manifest text: 4-space indent, fixed field order, trailing newline."""
    return json.dumps(manifest_to_data(entries), indent=4, ensure_ascii=False) + "\n"
