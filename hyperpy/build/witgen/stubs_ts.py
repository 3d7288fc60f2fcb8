"""Generate the typed HTTP client a web UI uses to call a package's `#[http]` handlers.

Same conventions as kit's `caller-utils.ts`, so a UI written against a Rust hyperapp works against
a Python one and back: one `export namespace <Interface>` per API interface; records become
interfaces with the wire's snake_case keys; each HTTP handler becomes
`export async function <snake_name>(args...)` that posts `{"Pascal": null | arg | [a, b]}` to the
path and method of its `// HTTP:` comment (no body for GET/HEAD), throws `ApiError` on a non-2xx
status, and for a `result<T, E>` return unwraps `{"Ok": T}` or throws `ApiError` whose `details`
is the `Err` value.

Where we deliberately differ from kit, because kit's output does not match the wire:
* payload-less variant cases are typed as the bare string `"Case"` (what serde sends), not
  `{ Case: null }`;
* only `result` returns are unwrapped (kit also unwraps any object that happens to have an `Ok`
  key);
* the base URL does not need Vite: `setBaseUrl()` wins, then Vite's `import.meta.env.BASE_URL` when
  it is set to something other than `/`, then `location.origin` + the process prefix baked in at
  generation (`/process:package:publisher`, where http-server mounts the process's paths).

A plain-JavaScript twin (`caller-utils.js`, an ES module with JSDoc types) is emitted from the same
model, so a UI of plain HTML and JS needs no TypeScript compiler; its namespace is an object
(`Notes.search(...)`) and its enums frozen objects (`Notes.Priority.High === "High"`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from hyperpy.build.witgen.model import (
    AliasDef,
    EnumDef,
    FlagsDef,
    Interface,
    ListType,
    MapType,
    NamedType,
    OptionType,
    Prim,
    RecordDef,
    ResultType,
    Signature,
    TupleType,
    TypeDef,
    VariantDef,
    WitDocument,
    WitType,
)
from hyperpy.build.witgen.naming import kebab_to_pascal, kebab_to_snake
from hyperpy.build.witgen.resolve import (
    StubGenerationError,
    TypeTable,
    build_table,
    check_signature_types,
    is_json_value_alias,
    ordered_definitions,
)

_NUMBER_PRIMS = frozenset({"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64"})
_JS_RESERVED = frozenset(
    {
        "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
        "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in",
        "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try",
        "typeof", "var", "void", "while", "with", "yield", "let", "static", "await", "implements",
        "interface", "package", "private", "protected", "public",
    }
)  # fmt: skip


def namespace_name(interface_name: str) -> str:
    """kit's namespace naming: PascalCase of the interface without `-sys-v0`-style and `types-` parts."""
    name = interface_name.removeprefix("types-")
    for suffix in ("-sys-v0", "-v0"):
        name = name.removesuffix(suffix)
    return kebab_to_pascal(name)


def _js_identifier(name: str) -> str:
    return name + "_" if name in _JS_RESERVED else name


def _key(name: str) -> str:
    """An object key in TS/JS source; quoted unless it is a plain identifier."""
    return name if name.replace("_", "a").isalnum() and not name[0].isdigit() else json.dumps(name)


class _TsTypes:
    def __init__(self, table: TypeTable) -> None:
        self.table = table

    def ts(self, wit_type: WitType | None) -> str:
        if wit_type is None:
            return "null"
        if isinstance(wit_type, Prim):
            if wit_type.name in _NUMBER_PRIMS:
                return "number"
            return "boolean" if wit_type.name == "bool" else "string"
        if isinstance(wit_type, ListType):
            element = self.ts(wit_type.element)
            return f"({element})[]" if "|" in element else f"{element}[]"
        if isinstance(wit_type, OptionType):
            return f"{self.ts(wit_type.inner)} | null"
        if isinstance(wit_type, ResultType):
            return f"{{ Ok: {self.ts(wit_type.ok)} }} | {{ Err: {self.ts(wit_type.err)} }}"
        if isinstance(wit_type, TupleType):
            return "[" + ", ".join(self.ts(item) for item in wit_type.items) + "]"
        if isinstance(wit_type, MapType):
            # a JSON object (a Python dict / Rust HashMap); integer keys arrive as their decimal text
            return f"Record<{self.ts(wit_type.key)}, {self.ts(wit_type.value)}>"
        assert isinstance(wit_type, NamedType)
        if wit_type.name in self.table.standard:
            return "string"
        definition = self.table.definitions[wit_type.name]
        if is_json_value_alias(definition):
            return "unknown"
        return kebab_to_pascal(wit_type.name)

    def definition(self, name: str, definition: TypeDef) -> str:
        type_name = kebab_to_pascal(name)
        docs = " ".join(definition.docs)
        comment = f"/** {docs} */\n" if docs else ""
        if is_json_value_alias(definition):
            alias_doc = "/** kit's alias for serde_json::Value: any JSON. */\n"
            return f"{comment}{alias_doc}export type {type_name} = unknown;"
        if isinstance(definition, RecordDef):
            fields = "".join(
                f"  {_key(kebab_to_snake(f.name))}: {self.ts(f.type)};\n" for f in definition.fields
            )
            return f"{comment}export interface {type_name} {{\n{fields}}}"
        if isinstance(definition, EnumDef):
            members = "".join(f'  {kebab_to_pascal(c)} = "{kebab_to_pascal(c)}",\n' for c in definition.cases)
            return f"{comment}export enum {type_name} {{\n{members}}}"
        if isinstance(definition, VariantDef):
            cases = [
                f'"{kebab_to_pascal(c.name)}"'
                if c.type is None
                else f"{{ {kebab_to_pascal(c.name)}: {self.ts(c.type)} }}"
                for c in definition.cases
            ]
            return f"{comment}export type {type_name} = {' | '.join(cases) or 'never'};"
        if isinstance(definition, AliasDef):
            return f"{comment}export type {type_name} = {self.ts(definition.target)};"
        assert isinstance(definition, FlagsDef)
        raise StubGenerationError(f"flags {name!r} has no hyperapp JSON form; use an enum or a list of enums")


def _http_signatures(interface: Interface) -> list[Signature]:
    return sorted((s for s in interface.signatures if s.kind == "http"), key=lambda s: s.function)


@dataclass
class _UrlArg:
    """A function parameter that goes into the URL path, the query string or a header."""

    name: str  # JS identifier
    ts_type: str
    source: str  # "path", "query" or "header"
    key: str  # placeholder, query key or header name
    optional: bool  # the handler has a default: the caller may leave it out (undefined / null)


@dataclass
class _HttpFunction:
    """Everything both clients need to emit one HTTP handler's function."""

    pascal: str
    name: str
    # (JS name, TS type, may be left out): URL parameters first, then body parameters
    params: list[tuple[str, str, bool]]
    body_keys: list[tuple[str, str]]  # (wire name, JS name) of the body parameters
    url_args: list[_UrlArg]
    data_type: str
    data_value: str
    unwrap: bool
    raw: bool
    result_type: str
    full_type: str
    method: str
    path: str
    docs: list[str]

    def doc_head(self) -> str:
        where = [f"{a.name} in the {a.source}" for a in self.url_args]
        sent = f'sends `{{"{self.pascal}": ...}}`' if self.sends_body else "sends no body"
        return f"{self.method} {self.path}: {sent}" + (f" ({', '.join(where)})" if where else "") + "."

    @property
    def sends_body(self) -> bool:
        return self.method not in ("GET", "HEAD")

    def path_expression(self) -> str:
        """The path as a JS template literal with each `{name}` placeholder percent-encoded."""
        by_key = {a.key: a.name for a in self.url_args if a.source == "path"}
        pieces: list[str] = []
        for segment in self.path.split("/"):
            match = _PLACEHOLDER.match(segment)
            if match is not None and match.group(1) in by_key:
                whole = "true" if match.group(2) else "false"
                pieces.append(f"${{pathSegment({by_key[match.group(1)]}, {whole})}}")
            else:
                pieces.append(segment.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${"))
        return "`" + "/".join(pieces) + "`"

    def mapping(self, source: str) -> str:
        """A JS object literal of the parameters sent in the query string or the headers."""
        entries = [f"{json.dumps(a.key)}: {a.name}" for a in self.url_args if a.source == source]
        if source == "query" and not self.sends_body:
            # hyperpy reads a GET handler's body parameters from the query string (there is no body)
            entries += [f"{json.dumps(key)}: {name}" for key, name in self.body_keys]
        return "{ " + ", ".join(entries) + " }" if entries else "{}"

    def request_call(self, data: str) -> str:
        """The `apiRequest(...)` arguments after the type parameters."""
        return (
            f"({self.path_expression()}, {json.dumps(self.method)}, {data}, {str(self.unwrap).lower()}, "
            f"{self.mapping('query')}, {self.mapping('header')}, {str(self.raw).lower()})"
        )


_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}$")


def _http_function(types: _TsTypes, signature: Signature) -> _HttpFunction:
    names = [_js_identifier(kebab_to_snake(p.name)) for p in signature.params]
    param_types = [types.ts(p.type) for p in signature.params]
    url_args = [
        _UrlArg(_js_identifier(kebab_to_snake(u.name)), types.ts(u.type), u.source, u.key, u.optional)
        for u in signature.url_params
    ]
    if not names:
        data_type, data_value = "null", "null"
    elif len(names) == 1:
        data_type, data_value = param_types[0], names[0]
    else:
        data_type, data_value = "[" + ", ".join(param_types) + "]", "[" + ", ".join(names) + "]"
    returning = signature.returning
    return _HttpFunction(
        pascal=kebab_to_pascal(signature.function),
        name=_js_identifier(kebab_to_snake(signature.function)),
        params=[(a.name, a.ts_type, a.optional) for a in url_args]
        + [(name, ts_type, False) for name, ts_type in zip(names, param_types, strict=True)],
        body_keys=[(kebab_to_snake(p.name), name) for p, name in zip(signature.params, names, strict=True)],
        url_args=url_args,
        data_type=data_type,
        data_value=data_value,
        unwrap=isinstance(returning, ResultType),
        raw=signature.raw_response,
        result_type="Response"
        if signature.raw_response
        else types.ts(returning.ok if isinstance(returning, ResultType) else returning),
        full_type=types.ts(returning),
        method=(signature.http_method or "POST").upper(),
        path=signature.http_path or "/api",
        docs=signature.docs,
    )


_RUNTIME_TS = """\
/** An HTTP error status, or an `{"Err": ...}` answer (then `details` is the Err value). */
export class ApiError extends Error {
  constructor(
    message: string,
    public readonly details?: unknown,
    public readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Where http-server mounts this process's paths, e.g. `/counter:counter:template.os`. */
export const PROCESS_PREFIX: string = __PREFIX__;

let baseUrlOverride: string | null = null;

/** Point every call at another origin/prefix (tests, a UI served elsewhere); null restores the default. */
export function setBaseUrl(url: string | null): void {
  baseUrlOverride = url === null ? null : url.replace(/\\/$/, '');
}

/** The URL calls are made against: setBaseUrl(), Vite's BASE_URL, or the page origin + process prefix. */
export function baseUrl(): string {
  if (baseUrlOverride !== null) return baseUrlOverride;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const viteBase = (import.meta as any).env?.BASE_URL;
  if (typeof viteBase === 'string' && viteBase !== '/' && viteBase !== '') {
    const base = viteBase.replace(/\\/$/, '');
    return base.startsWith('http') ? base : window.location.origin + base;
  }
  return window.location.origin + PROCESS_PREFIX;
}

/** Unwrap a hyperapp `{"Ok": value}` / `{"Err": error}` answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parseResponse<T>(response: any): T {
  if (response !== null && typeof response === 'object' && !Array.isArray(response)) {
    if ('Ok' in response) return response.Ok as T;
    if ('Err' in response) throw new ApiError('API returned an error', response.Err);
  }
  throw new ApiError('expected an {"Ok": ...} or {"Err": ...} answer', response);
}

/** A path parameter, percent-encoded (`{name:path}` parameters keep their slashes). */
function pathSegment(value: unknown, wholePath: boolean): string {
  const text = encodeURIComponent(String(value));
  return wholePath ? text.replace(/%2F/gi, '/') : text;
}

/** `?key=value&...` for the parameters that are set (null and undefined are left out). */
function queryString(query: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)));
  }
  return parts.length ? '?' + parts.join('&') : '';
}

async function apiRequest<T, R>(
  path: string,
  method: string,
  data: T,
  unwrap: boolean,
  query: Record<string, unknown> = {},
  headers: Record<string, unknown> = {},
  raw = false,
): Promise<R> {
  const sent: Record<string, string> = { 'Content-Type': 'application/json' };
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && value !== null) sent[name] = String(value);
  }
  const init: RequestInit = { method, headers: sent };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = JSON.stringify(data);
  }
  const url = baseUrl() + (path.startsWith('/') ? path : '/' + path) + queryString(query);
  const response = await fetch(url, init);
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw new ApiError(`HTTP request failed with status: ${response.status}`, text, response.status);
  }
  if (raw) return response as unknown as R; // a handler answering with HTML, a file, ...: not JSON
  const json = await response.json();
  return unwrap ? parseResponse<R>(json) : (json as R);
}
"""

_RUNTIME_JS = """\
/** An HTTP error status, or an `{"Err": ...}` answer (then `details` is the Err value). */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {unknown} [details]
   * @param {number} [status]
   */
  constructor(message, details, status) {
    super(message);
    this.name = 'ApiError';
    this.details = details;
    this.status = status;
  }
}

/** Where http-server mounts this process's paths, e.g. `/counter:counter:template.os`. */
export const PROCESS_PREFIX = __PREFIX__;

/** @type {string | null} */
let baseUrlOverride = null;

/**
 * Point every call at another origin/prefix (tests, a UI served elsewhere); null restores the default.
 * @param {string | null} url
 */
export function setBaseUrl(url) {
  baseUrlOverride = url === null ? null : url.replace(/\\/$/, '');
}

/** The URL calls are made against: setBaseUrl(), or the page origin + process prefix. @returns {string} */
export function baseUrl() {
  if (baseUrlOverride !== null) return baseUrlOverride;
  return window.location.origin + PROCESS_PREFIX;
}

/**
 * Unwrap a hyperapp `{"Ok": value}` / `{"Err": error}` answer.
 * @param {any} response
 */
export function parseResponse(response) {
  if (response !== null && typeof response === 'object' && !Array.isArray(response)) {
    if ('Ok' in response) return response.Ok;
    if ('Err' in response) throw new ApiError('API returned an error', response.Err);
  }
  throw new ApiError('expected an {"Ok": ...} or {"Err": ...} answer', response);
}

/**
 * A path parameter, percent-encoded (`{name:path}` parameters keep their slashes).
 * @param {unknown} value
 * @param {boolean} wholePath
 */
function pathSegment(value, wholePath) {
  const text = encodeURIComponent(String(value));
  return wholePath ? text.replace(/%2F/gi, '/') : text;
}

/**
 * `?key=value&...` for the parameters that are set (null and undefined are left out).
 * @param {Record<string, unknown>} query
 */
function queryString(query) {
  const parts = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)));
  }
  return parts.length ? '?' + parts.join('&') : '';
}

/**
 * @param {string} path
 * @param {string} method
 * @param {unknown} data
 * @param {boolean} unwrap
 * @param {Record<string, unknown>} [query]
 * @param {Record<string, unknown>} [headers]
 * @param {boolean} [raw] the handler answers with a raw HTTP response (HTML, a file): return it as is
 */
async function apiRequest(path, method, data, unwrap, query = {}, headers = {}, raw = false) {
  /** @type {Record<string, string>} */
  const sent = { 'Content-Type': 'application/json' };
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && value !== null) sent[name] = String(value);
  }
  /** @type {RequestInit} */
  const init = { method, headers: sent };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = JSON.stringify(data);
  }
  const url = baseUrl() + (path.startsWith('/') ? path : '/' + path) + queryString(query);
  const response = await fetch(url, init);
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw new ApiError(`HTTP request failed with status: ${response.status}`, text, response.status);
  }
  if (raw) return response;
  const json = await response.json();
  return unwrap ? parseResponse(json) : json;
}
"""


def _prepare(interfaces: list[Interface], document: WitDocument | None) -> list[tuple[Interface, _TsTypes]]:
    prepared = []
    namespaces: dict[str, str] = {}
    for interface in interfaces:
        namespace = namespace_name(interface.name)
        if namespace in namespaces:
            raise StubGenerationError(
                f"interfaces {namespaces[namespace]!r} and {interface.name!r} both become TypeScript "
                f"namespace {namespace!r}; rename one"
            )
        namespaces[namespace] = interface.name
        table = build_table(interface, document)
        check_signature_types(table)
        generated = set()
        for signature in _http_signatures(interface):
            pascal = kebab_to_pascal(signature.function)
            generated |= {f"{pascal}RequestWrapper", f"{pascal}Response"}
        for name, _ in ordered_definitions(table):
            if kebab_to_pascal(name) in generated:
                raise StubGenerationError(
                    f"interface {interface.name!r}: type {name!r} collides with a generated "
                    f"TypeScript type of the same name ({kebab_to_pascal(name)}); rename the type"
                )
        prepared.append((interface, _TsTypes(table)))
    return prepared


def _header(source: str) -> str:
    origin = f" from {source}" if source else ""
    return f"// Typed HTTP client{origin}. Generated by hyperpy (`hyperpy stubs`); do not edit.\n\n"


def generate_typescript_client(
    interfaces: list[Interface],
    document: WitDocument | None = None,
    *,
    process_prefix: str = "",
    source: str = "",
) -> str:
    """Return `caller-utils.ts` for the HTTP handlers of `interfaces` (kit's conventions, see module doc)."""
    out = [_header(source), _RUNTIME_TS.replace("__PREFIX__", json.dumps(process_prefix))]
    for interface, types in _prepare(interfaces, document):
        namespace = namespace_name(interface.name)
        body: list[str] = []
        for name, definition in ordered_definitions(types.table):
            body.append(types.definition(name, definition))
        for signature in _http_signatures(interface):
            fn = _http_function(types, signature)
            params = ", ".join(_ts_parameters(fn.params))
            docs = "".join(f" * {line}\n" for line in fn.docs)
            wrapper = f"{fn.pascal}RequestWrapper"
            body.append(f"export interface {wrapper} {{\n  {fn.pascal}: {fn.data_type};\n}}")
            body.append(f"export type {fn.pascal}Response = {fn.full_type};")
            body.append(
                f"/**\n * {fn.doc_head()}\n{docs} */\n"
                f"export async function {fn.name}({params}): Promise<{fn.result_type}> {{\n"
                f"  const data: {wrapper} = {{ {fn.pascal}: {fn.data_value} }};\n"
                f"  return await apiRequest<{wrapper}, {fn.result_type}>{fn.request_call('data')};\n"
                "}"
            )
        indented = "\n\n".join(_indent(block) for block in body)
        out.append(f"\nexport namespace {namespace} {{\n{indented}\n}}\n")
    return "".join(out)


def generate_javascript_client(
    interfaces: list[Interface],
    document: WitDocument | None = None,
    *,
    process_prefix: str = "",
    source: str = "",
) -> str:
    """Return `caller-utils.js`: the same client as plain ES-module JavaScript with JSDoc types."""
    out = [_header(source), _RUNTIME_JS.replace("__PREFIX__", json.dumps(process_prefix))]
    for interface, types in _prepare(interfaces, document):
        namespace = namespace_name(interface.name)
        members: list[str] = []
        for name, definition in ordered_definitions(types.table):
            type_name = kebab_to_pascal(name)
            if isinstance(definition, EnumDef):
                cases = ", ".join(f'{kebab_to_pascal(c)}: "{kebab_to_pascal(c)}"' for c in definition.cases)
                out.append(f"\n/** The `{name}` enum of `{interface.name}`. */\n")
                out.append(f"const {namespace}_{type_name} = Object.freeze({{ {cases} }});\n")
                values = " | ".join(f'"{kebab_to_pascal(c)}"' for c in definition.cases) or "never"
                out.append(f"/** @typedef {{{values}}} {type_name} */\n")
                members.append(f"{type_name}: {namespace}_{type_name}")
            elif not isinstance(definition, FlagsDef):
                jsdoc = _jsdoc_type(types, definition)
                out.append(
                    f"\n/** @typedef {{{jsdoc}}} {type_name} The `{name}` type of `{interface.name}`. */\n"
                )
        for signature in _http_signatures(interface):
            fn = _http_function(types, signature)
            names = ", ".join(name for name, _, _ in fn.params)
            param_docs = "".join(
                f" * @param {{{ts_type}{' | null | undefined' if optional else ''}}} "
                f"{f'[{name}]' if optional and _all_optional_from(fn.params, index) else name}\n"
                for index, (name, ts_type, optional) in enumerate(fn.params)
            )
            function = f"{namespace}_{fn.name}"
            out.append(
                f"\n/**\n * {fn.doc_head()}\n{param_docs} * @returns {{Promise<{fn.result_type}>}}\n */\n"
                f"async function {function}({names}) {{\n"
                f"  return await apiRequest{fn.request_call(f'{{ {fn.pascal}: {fn.data_value} }}')};\n}}\n"
            )
            members.append(f"{fn.name}: {function}")
        listed = "".join(f"  {member},\n" for member in members)
        out.append(f"\n/** The `{interface.name}` API. */\n")
        out.append(f"export const {namespace} = Object.freeze({{\n{listed}}});\n")
    return "".join(out)


def _all_optional_from(params: list[tuple[str, str, bool]], index: int) -> bool:
    return all(optional for _, _, optional in params[index:])


def _ts_parameters(params: list[tuple[str, str, bool]]) -> list[str]:
    """TS parameters: one the handler has a default for may be left out (`limit?: number`) when all
    after it may too, else it is typed `T | null | undefined` (null/undefined leave it out of the URL)."""
    out = []
    for index, (name, ts_type, optional) in enumerate(params):
        if optional and _all_optional_from(params, index):
            out.append(f"{name}?: {ts_type} | null")
        elif optional:
            out.append(f"{name}: {ts_type} | null | undefined")
        else:
            out.append(f"{name}: {ts_type}")
    return out


def _jsdoc_type(types: _TsTypes, definition: TypeDef) -> str:
    """A JSDoc type expression for a definition (records as object literal types)."""
    if isinstance(definition, RecordDef):
        fields = ", ".join(f"{_key(kebab_to_snake(f.name))}: {types.ts(f.type)}" for f in definition.fields)
        return "{" + fields + "}"
    if isinstance(definition, VariantDef):
        cases = [
            f'"{kebab_to_pascal(c.name)}"'
            if c.type is None
            else f"{{{kebab_to_pascal(c.name)}: {types.ts(c.type)}}}"
            for c in definition.cases
        ]
        return " | ".join(cases) or "never"
    if isinstance(definition, AliasDef):
        return "unknown" if is_json_value_alias(definition) else types.ts(definition.target)
    return "string"


def _indent(block: str) -> str:
    return "\n".join(("  " + line) if line else line for line in block.splitlines())
