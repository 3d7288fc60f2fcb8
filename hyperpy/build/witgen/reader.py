"""Read kit-style API WIT (`api/*.wit`, or a package's `api.zip`) into the `model`.

Why our own parser: stubs must be generated on the host from any package's API — a Rust hyperapp's,
another Python package's, one fetched from a node — and the facts that matter for calling a handler
live in *comments* (`// HTTP: GET /api/x`, `// args: (name: string)`, `// json fmt: ...`) that WIT
parsers such as wasm-tools throw away. So this is a small tokenizer that keeps comments attached to
the next token, and a recursive-descent parser for the WIT subset packages use: interfaces with
records, enums, variants, flags, type aliases, `use`, functions; worlds with import/export/include.
Anything else it meets (resources, nested packages) is skipped structurally, never misread; what
the stub generators cannot express is reported by them, naming the type.

kit writes `api/*.wit` without a `package` header: the files are compiled next to
`hyperware.wit`, so `use standard.{address};` refers to the Hyperware ABI. `read_api_dir` reads
them that way.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from hyperpy.build.witgen.model import (
    HANDLER_KINDS,
    PRIMITIVES,
    AliasDef,
    Case,
    EnumDef,
    Field,
    FlagsDef,
    HandlerKind,
    Interface,
    ListType,
    MapType,
    NamedType,
    OptionType,
    Param,
    Prim,
    RecordDef,
    ResultType,
    Signature,
    TupleType,
    TypeDef,
    UrlParam,
    UseDecl,
    VariantDef,
    WitDocument,
    WitFunction,
    WitType,
    World,
    WorldItem,
)


class WitSyntaxError(ValueError):
    """WIT text that does not parse; the message names file, line, column and what was expected."""


@dataclass
class Token:
    kind: str  # "id", "num", "punct", "eof"
    text: str
    line: int
    column: int
    comments: list[str] = field(default_factory=list)  # `//` comment bodies since the previous token
    docs: list[str] = field(default_factory=list)  # `///` and `/** */` bodies since the previous token


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<doc>///[^\n]*)
  | (?P<comment>//[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<arrow>->)
  | (?P<id>%?[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<num>[0-9][0-9A-Za-z.+_-]*)
  | (?P<punct>[{}()<>,;:.=@/*])
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str, filename: str = "<wit>") -> list[Token]:
    """Split WIT text into tokens, attaching the comments that precede each token to it."""
    tokens: list[Token] = []
    comments: list[str] = []
    docs: list[str] = []
    position = 0
    line = 1
    line_start = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            column = position - line_start + 1
            raise WitSyntaxError(f"{filename}:{line}:{column}: unexpected character {text[position]!r}")
        kind = match.lastgroup or ""
        value = match.group()
        column = position - line_start + 1
        if kind == "doc":
            docs.append(value[3:].strip())
        elif kind == "comment":
            comments.append(value[2:].strip())
        elif kind == "block":
            body = value[2:-2]
            target = docs if body.startswith("*") else comments
            target.extend(part.strip().lstrip("*").strip() for part in body.strip("*").splitlines())
        elif kind != "ws":
            token_kind = "punct" if kind == "arrow" else kind
            tokens.append(Token(token_kind, value, line, column, comments, docs))
            comments, docs = [], []
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = position + value.rfind("\n") + 1
        position = match.end()
    tokens.append(Token("eof", "", line, position - line_start + 1, comments, docs))
    return tokens


def _ident(text: str) -> str:
    """A WIT identifier without its `%` escape (used for keywords such as `%type`)."""
    return text[1:] if text.startswith("%") else text


_SIGNATURE_RE = re.compile(r"^(?P<function>.+)-signature-(?P<kind>local|remote|http)$")


# hyperpy's comment before a field whose JSON form WIT cannot say: `// json: map<string, s64>` above
# `counts: list<tuple<string, s64>>` means the wire carries an object (see `model.MapType`).
JSON_FORM_PREFIX = "json:"
# hyperpy's comment on an HTTP signature whose handler answers with a raw HTTP response, not JSON.
RAW_RESPONSE_COMMENT = "returns: raw HTTP response"
_URL_PARAM_RE = re.compile(
    r"^(?P<source>path|query|header):\s*(?P<key>\S+)\s*->\s*(?P<name>%?[a-z][a-z0-9-]*)(?P<optional>\?)?\s*:\s*(?P<type>.+)$"
)


def erase_maps(wit_type: WitType) -> WitType:
    """The WIT type written for `wit_type`: every `map<K, V>` becomes `list<tuple<K, V>>`."""
    if isinstance(wit_type, MapType):
        return ListType(TupleType((erase_maps(wit_type.key), erase_maps(wit_type.value))))
    if isinstance(wit_type, ListType):
        return ListType(erase_maps(wit_type.element))
    if isinstance(wit_type, OptionType):
        return OptionType(erase_maps(wit_type.inner))
    if isinstance(wit_type, ResultType):
        return ResultType(
            None if wit_type.ok is None else erase_maps(wit_type.ok),
            None if wit_type.err is None else erase_maps(wit_type.err),
        )
    if isinstance(wit_type, TupleType):
        return TupleType(tuple(erase_maps(item) for item in wit_type.items))
    return wit_type


def parse_type_text(text: str, filename: str = "<wit>", *, allow_map: bool = False) -> WitType:
    """Parse one WIT type expression (`list<tuple<string, s64>>`; `map<K, V>` when `allow_map`)."""
    parser = _Parser(text, filename)
    parser.allow_map = allow_map
    wit_type = parser.type_expr()
    if parser.current.kind != "eof":
        raise parser.error("the end of the type")
    return wit_type


class _Parser:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.tokens = tokenize(text, filename)
        self.index = 0
        self.allow_map = False

    # -- token helpers -------------------------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def error(self, expected: str, token: Token | None = None) -> WitSyntaxError:
        token = token or self.current
        found = "end of file" if token.kind == "eof" else repr(token.text)
        where = f"{self.filename}:{token.line}:{token.column}"
        return WitSyntaxError(f"{where}: expected {expected}, found {found}")

    def advance(self) -> Token:
        token = self.current
        if token.kind != "eof":
            self.index += 1
        return token

    def at(self, text: str) -> bool:
        return self.current.text == text and self.current.kind in ("punct", "id")

    def accept(self, text: str) -> Token | None:
        if self.at(text):
            return self.advance()
        return None

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.error(repr(text))
        return self.advance()

    def expect_ident(self, what: str = "a name") -> str:
        if self.current.kind != "id":
            raise self.error(what)
        return _ident(self.advance().text)

    def skip_attributes(self) -> None:
        """Skip `@since(version = 1.0.0)`, `@unstable(feature = x)`, `@deprecated(...)` gates."""
        while self.at("@") and self.peek().kind == "id":
            self.advance()
            self.advance()
            if self.at("("):
                self.skip_balanced("(", ")")

    def skip_balanced(self, open_text: str, close_text: str) -> None:
        self.expect(open_text)
        depth = 1
        while depth:
            token = self.advance()
            if token.kind == "eof":
                raise self.error(repr(close_text), token)
            if token.text == open_text:
                depth += 1
            elif token.text == close_text:
                depth -= 1

    def skip_resource(self) -> None:
        """Skip `resource name;` or `resource name { ... }`: resources never cross the JSON wire."""
        self.expect("resource")
        self.expect_ident("a resource name")
        if self.at("{"):
            self.skip_balanced("{", "}")
        else:
            self.expect(";")

    def raw_until(self, *stops: str) -> str:
        """Join tokens up to (not including) one of `stops` at bracket depth 0, e.g. `wasi:io/poll@0.2.0`."""
        parts: list[str] = []
        depth = 0
        while not (depth == 0 and self.current.text in stops) and self.current.kind != "eof":
            token = self.advance()
            if token.text in "{(<":
                depth += 1
            elif token.text in "})>":
                depth -= 1
            parts.append(token.text)
        return "".join(parts)

    # -- document ------------------------------------------------------------------------------
    def document(self) -> WitDocument:
        document = WitDocument()
        if self.at("package"):
            self.advance()
            document.package = self.raw_until(";", "{")
            if self.at("{"):
                raise self.error("';' (nested package blocks are not supported)")
            self.expect(";")
        while self.current.kind != "eof":
            leading = self.current
            self.skip_attributes()
            start = self.current
            if self.accept("interface"):
                document.interfaces.append(self.interface(start, leading.docs + start.docs))
            elif self.accept("world"):
                document.worlds.append(self.world(start))
            elif self.accept("use"):
                self.raw_until(";")
                self.expect(";")
            elif self.accept("package"):
                self.raw_until("{", ";")
                if self.at("{"):
                    self.skip_balanced("{", "}")
                else:
                    self.expect(";")
            else:
                raise self.error("'interface', 'world', 'use' or 'package'")
        return document

    def interface(self, start: Token, docs: list[str]) -> Interface:
        name = self.expect_ident("an interface name")
        interface = Interface(name=name, docs=list(docs))
        self.expect("{")
        records: list[tuple[RecordDef, Token]] = []
        while not self.at("}"):
            self.skip_attributes()
            item_start = self.current
            if self.accept("use"):
                interface.uses.append(self.use_decl())
            elif self.at("resource"):
                self.skip_resource()
            elif self.current.text in ("record", "enum", "variant", "flags", "type"):
                typedef = self.typedef()
                if isinstance(typedef, RecordDef):
                    records.append((typedef, item_start))
                interface.types.append(typedef)
            elif self.current.kind == "id" and self.peek().text == ":":
                interface.functions.append(self.function())
            else:
                raise self.error("a type definition, 'use' or a function in interface " + repr(name))
        self.expect("}")
        end = self.tokens[self.index - 1]
        interface.source = _slice_lines(self.text, start.line, end.line)
        for record, token in records:
            signature = _signature_from_record(record, token, self.filename)
            if signature is not None:
                interface.signatures.append(signature)
                interface.types.remove(record)
        return interface

    def use_decl(self) -> UseDecl:
        path = self.raw_until(".", ";")
        if self.accept(";"):
            return UseDecl(interface=path, names=[])
        self.expect(".")
        self.expect("{")
        names: list[tuple[str, str]] = []
        while not self.at("}"):
            original = self.expect_ident("a name to use")
            alias = original
            if self.accept("as"):
                alias = self.expect_ident("an alias")
            names.append((original, alias))
            if not self.accept(","):
                break
        self.expect("}")
        self.expect(";")
        interface = path.rsplit("/", 1)[-1].split("@", 1)[0]
        return UseDecl(interface=interface, names=names)

    def typedef(self) -> TypeDef:
        keyword_token = self.advance()
        keyword = keyword_token.text
        docs = list(keyword_token.docs)
        name = self.expect_ident(f"a {keyword} name")
        if keyword == "type":
            self.expect("=")
            target = self.type_expr()
            self.expect(";")
            return AliasDef(name=name, target=target, docs=docs)
        self.expect("{")
        if keyword == "record":
            fields: list[Field] = []
            while not self.at("}"):
                field_docs = list(self.current.docs)
                json_form = self.json_form_comment()
                field_name = self.expect_ident("a field name")
                self.expect(":")
                fields.append(Field(field_name, self.with_json_form(self.type_expr(), json_form), field_docs))
                if not self.accept(","):
                    break
            self.expect("}")
            return RecordDef(name=name, fields=fields, docs=docs)
        if keyword == "variant":
            cases: list[Case] = []
            while not self.at("}"):
                case_docs = list(self.current.docs)
                json_form = self.json_form_comment()
                case_name = self.expect_ident("a variant case")
                payload: WitType | None = None
                if self.accept("("):
                    payload = self.with_json_form(self.type_expr(), json_form)
                    self.expect(")")
                cases.append(Case(case_name, payload, case_docs))
                if not self.accept(","):
                    break
            self.expect("}")
            return VariantDef(name=name, cases=cases, docs=docs)
        names: list[str] = []
        while not self.at("}"):
            names.append(self.expect_ident(f"a {keyword} case"))
            if not self.accept(","):
                break
        self.expect("}")
        if keyword == "enum":
            return EnumDef(name=name, cases=names, docs=docs)
        return FlagsDef(name=name, flags=names, docs=docs)

    def json_form_comment(self) -> tuple[Token, str] | None:
        """The `// json: <type>` comment before the current token (hyperpy's marker for maps)."""
        for comment in self.current.comments:
            if comment.startswith(JSON_FORM_PREFIX):
                return self.current, comment[len(JSON_FORM_PREFIX) :].strip()
        return None

    def with_json_form(self, wit_type: WitType, json_form: tuple[Token, str] | None) -> WitType:
        """`wit_type`, or the type of its `// json:` comment when that erases to the same WIT type."""
        if json_form is None:
            return wit_type
        token, text = json_form
        try:
            declared = parse_type_text(text, self.filename, allow_map=True)
        except WitSyntaxError as error:
            raise WitSyntaxError(f"{self.filename}:{token.line}: bad `// json:` comment: {error}") from None
        if erase_maps(declared) != wit_type:
            raise WitSyntaxError(
                f"{self.filename}:{token.line}: the `// json: {text}` comment does not describe the "
                "field that follows it (its maps must be `list<tuple<K, V>>` there); regenerate the WIT"
            )
        return declared

    def function(self) -> WitFunction:
        name = self.expect_ident("a function name")
        self.expect(":")
        self.accept("async")
        self.expect("func")
        self.expect("(")
        params: list[Param] = []
        while not self.at(")"):
            param_name = self.expect_ident("a parameter name")
            self.expect(":")
            params.append(Param(param_name, self.type_expr()))
            if not self.accept(","):
                break
        self.expect(")")
        result: WitType | None = None
        if self.accept("->"):
            result = self.type_expr()
        self.expect(";")
        return WitFunction(name=name, params=params, result=result)

    def type_expr(self) -> WitType:
        token = self.current
        if token.kind != "id":
            raise self.error("a type")
        name = _ident(self.advance().text)
        if token.text.startswith("%"):
            return NamedType(name)
        if name in PRIMITIVES:
            return Prim(name)
        if name in ("float32", "float64"):
            return Prim("f" + name[5:])
        if name == "list":
            self.expect("<")
            element = self.type_expr()
            if self.accept(","):
                self.advance()  # fixed-size list length; crosses the JSON wire as a plain array
            self.expect(">")
            return ListType(element)
        if name == "option":
            self.expect("<")
            inner = self.type_expr()
            self.expect(">")
            return OptionType(inner)
        if name == "map" and self.allow_map:
            self.expect("<")
            key = self.type_expr()
            self.expect(",")
            value = self.type_expr()
            self.expect(">")
            return MapType(key, value)
        if name == "tuple":
            self.expect("<")
            items: list[WitType] = []
            while not self.at(">"):
                items.append(self.type_expr())
                if not self.accept(","):
                    break
            self.expect(">")
            return TupleType(tuple(items))
        if name == "result":
            if not self.accept("<"):
                return ResultType(None, None)
            ok: WitType | None = None
            if not self.accept("_"):
                ok = self.type_expr()
            err: WitType | None = None
            if self.accept(","):
                err = self.type_expr()
            self.expect(">")
            return ResultType(ok, err)
        if name in ("borrow", "own", "future", "stream"):
            raise WitSyntaxError(
                f"{self.filename}:{token.line}:{token.column}: `{name}<...>` (resources and async "
                "streams) cannot cross the hyperapp JSON wire; API interfaces must use plain data types"
            )
        return NamedType(name)

    def world(self, start: Token) -> World:
        name = self.expect_ident("a world name")
        world = World(name=name)
        self.expect("{")
        while not self.at("}"):
            self.skip_attributes()
            keyword = self.current.text
            if keyword in ("import", "export"):
                self.advance()
                target = self.raw_until(";", ":", "{").replace("%", "")
                if self.accept(":"):
                    # `import name: func(...)` or `import name: interface { ... }`
                    if self.at("interface"):
                        self.advance()
                        self.skip_balanced("{", "}")
                    else:
                        self.raw_until(";")
                        self.expect(";")
                else:
                    self.expect(";")
                world.items.append(WorldItem(keyword, target))  # type: ignore[arg-type]
            elif keyword == "include":
                self.advance()
                target = self.raw_until(";", "with").replace("%", "")
                if self.accept("with"):
                    self.skip_balanced("{", "}")
                self.accept(";")
                world.items.append(WorldItem("include", target))
            elif keyword == "use":
                self.advance()
                world.items.append(WorldItem("use", self.raw_until(";")))
                self.expect(";")
            elif keyword in ("record", "enum", "variant", "flags", "type"):
                self.typedef()
            elif keyword == "resource":
                self.skip_resource()
            else:
                raise self.error("'import', 'export', 'include' or 'use' in world " + repr(name))
        self.expect("}")
        end = self.tokens[self.index - 1]
        world.source = _slice_lines(self.text, start.line, end.line)
        return world


def _slice_lines(text: str, first: int, last: int) -> str:
    return "\n".join(text.splitlines()[first - 1 : last]) + "\n"


_HTTP_COMMENT_RE = re.compile(r"^HTTP:\s*(?P<method>[A-Za-z]+)\s+(?P<path>\S+)")


def _split_top_level(text: str) -> list[str]:
    """Split `a: list<tuple<u8, u8>>, b: string` on commas outside angle brackets."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _arg_names_from_comment(comments: list[str]) -> list[str] | None:
    for comment in comments:
        if not comment.startswith("args:"):
            continue
        body = comment[len("args:") :].strip()
        if body == "none":
            return []
        if body.startswith("(") and body.endswith(")"):
            body = body[1:-1]
        return [_ident(part.split(":", 1)[0].strip()) for part in _split_top_level(body)]
    return None


def _signature_from_record(record: RecordDef, token: Token, filename: str) -> Signature | None:
    """Interpret a `<fn>-signature-<kind>` record, in kit's current or older layout, or return None."""
    match = _SIGNATURE_RE.match(record.name)
    if match is None:
        return None
    kind = match.group("kind")
    assert kind in HANDLER_KINDS
    handler_kind: HandlerKind = kind  # type: ignore[assignment]
    comments = token.comments
    returning: WitType | None = None
    params: list[Param] = []
    named = True
    arg_types: TupleType | None = None
    for record_field in record.fields:
        if record_field.name == "target":
            continue
        if record_field.name == "returning":
            returning = record_field.type
        elif record_field.name == "arg-types" and isinstance(record_field.type, TupleType):
            arg_types = record_field.type
        else:
            params.append(Param(record_field.name, record_field.type))
    if arg_types is not None:
        names = _arg_names_from_comment(comments)
        if names is None or len(names) != len(arg_types.items):
            names = [f"arg{index}" for index in range(len(arg_types.items))]
            named = False
        params = [Param(name, wit_type) for name, wit_type in zip(names, arg_types.items, strict=True)]
    url_params: list[UrlParam] = []
    for comment in comments:
        url = _URL_PARAM_RE.match(comment)
        if url is not None:
            source = url.group("source")
            assert source in ("path", "query", "header")
            url_type = parse_type_text(url.group("type"), filename)
            name, optional = _ident(url.group("name")), url.group("optional") is not None
            url_params.append(UrlParam(source, url.group("key"), name, url_type, optional))  # type: ignore[arg-type]
    method: str | None = None
    path: str | None = None
    if handler_kind == "http":
        for comment in comments:
            http = _HTTP_COMMENT_RE.match(comment)
            if http:
                method, path = http.group("method").upper(), http.group("path")
    raw_response = any(comment.startswith(RAW_RESPONSE_COMMENT) for comment in comments)
    generated = (
        "Function signature for:",
        "HTTP:",
        "args:",
        "json fmt:",
        JSON_FORM_PREFIX,
        RAW_RESPONSE_COMMENT,
    )
    docs = [
        comment
        for comment in comments
        if not comment.startswith(generated) and _URL_PARAM_RE.match(comment) is None
    ]
    return Signature(
        function=match.group("function"),
        kind=handler_kind,
        params=params,
        returning=returning,
        http_method=method,
        http_path=path,
        args_named=named,
        docs=docs + list(token.docs),
        url_params=url_params,
        raw_response=raw_response,
    )


def parse_wit(text: str, filename: str = "<wit>") -> WitDocument:
    """Parse one WIT file; raise `WitSyntaxError` naming file, line and column on bad input."""
    return _Parser(text, filename).document()


def read_wit_files(files: dict[str, str]) -> WitDocument:
    """Parse several WIT files of one package (name -> text) into one document, in name order."""
    document = WitDocument()
    for name in sorted(files):
        document.merge(parse_wit(files[name], name))
    return document


def read_api_dir(directory: Path) -> WitDocument:
    """Read every `*.wit` in a package's `api/` directory (kit layout: no package header)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such API directory (expected a folder of .wit files)")
    files = {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.wit"))}
    if not files:
        raise FileNotFoundError(f"{directory}: contains no .wit files")
    return read_wit_files({str(directory / name): text for name, text in files.items()})


def read_api_zip(data: bytes, name: str = "api.zip") -> WitDocument:
    """Read the `.wit` files of a package's `pkg/api.zip` (as kit zips `target/api/`)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {
            f"{name}:{entry}": archive.read(entry).decode("utf-8")
            for entry in archive.namelist()
            if entry.endswith(".wit") and not entry.endswith("/")
        }
    if not files:
        raise FileNotFoundError(f"{name}: contains no .wit files")
    return read_wit_files(files)
