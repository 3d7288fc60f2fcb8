"""Hypermap-safe names: what a node accepts, and the suggested fix when it would not."""

from __future__ import annotations

import pytest

from hyperpy.package.names import (
    InvalidNameError,
    parse_address,
    parse_process_id,
    suggest_safe_name,
    validate_package_name,
    validate_process_name,
    validate_publisher,
    validate_wasm_path,
)


@pytest.mark.parametrize("name", ["echo", "my-app", "a1", "0", "x-y-z-9"])
def test_safe_process_and_package_names_pass(name: str) -> None:
    assert validate_process_name(name) == name
    assert validate_package_name(name) == name


@pytest.mark.parametrize("name", ["Echo", "my_app", "my.app", "", "a b", "über"])
def test_unsafe_names_name_the_field_and_suggest_a_spelling(name: str) -> None:
    with pytest.raises(InvalidNameError) as caught:
        validate_package_name(name, "package")
    message = str(caught.value)
    assert message.startswith(f"package {name!r} is not hypermap-safe")
    assert "lowercase letters a-z, digits 0-9 and '-'" in message
    assert "for example" in message


def test_publisher_allows_dots_but_not_uppercase() -> None:
    assert validate_publisher("template.os") == "template.os"
    with pytest.raises(InvalidNameError, match=r"for example 'my-node\.os'"):
        validate_publisher("My_Node.os")


def test_suggestion_is_itself_safe() -> None:
    assert suggest_safe_name("My_Cool App!") == "my-cool-app"
    assert suggest_safe_name("Node.OS", allow_dots=True) == "node.os"
    assert suggest_safe_name("___") == "my-app"


def test_process_id_needs_three_safe_parts() -> None:
    parsed = parse_process_id("http-server:distro:sys")
    assert (parsed.process_name, parsed.package_name, parsed.publisher_node) == (
        "http-server",
        "distro",
        "sys",
    )
    assert str(parsed) == "http-server:distro:sys"
    assert parsed.package == "distro:sys"
    with pytest.raises(InvalidNameError, match="expected 'process:package:publisher'"):
        parse_process_id("http-server:distro")
    with pytest.raises(InvalidNameError, match="expected 'process:package:publisher'"):
        parse_process_id("a::c")
    with pytest.raises(InvalidNameError, match="process part"):
        parse_process_id("Http:distro:sys")


def test_address_needs_exactly_one_at() -> None:
    node, process = parse_address("our.os@echo:echo:template.os")
    assert node == "our.os"
    assert str(process) == "echo:echo:template.os"
    for bad in ("echo:echo:template.os", "a@b@c:d:e"):
        with pytest.raises(InvalidNameError, match="exactly one '@'"):
            parse_address(bad)


def test_wasm_path_is_slash_safe_name_dot_wasm() -> None:
    assert validate_wasm_path("/echo.wasm") == "/echo.wasm"
    for bad in ("echo.wasm", "/Echo.wasm", "/sub/echo.wasm", "/echo.wat"):
        with pytest.raises(InvalidNameError, match=r"must be '/<name>\.wasm'"):
            validate_wasm_path(bad)


def test_hypermap_safe_is_one_rule_for_every_process_id_type() -> None:
    # The kernel (init/boot), http-server (binds) and spawn all ask this one function.
    from hyperpy.node.wit_types import ProcessId as HostProcessId
    from hyperpy.package.names import is_hypermap_safe
    from hyperpy.runtime.types import ProcessId

    assert is_hypermap_safe(ProcessId.parse("my-app:pkg-1:pub.os"))
    assert is_hypermap_safe(HostProcessId.parse("my-app:pkg-1:pub.os"))
    for bad in ("My:pkg:pub.os", "a:pk.g:pub.os", "a:pkg:pub_os"):
        assert not is_hypermap_safe(ProcessId.parse(bad))
        assert not is_hypermap_safe(HostProcessId.parse(bad))


def test_drive_capability_params_are_a_serde_json_value() -> None:
    # Hyperdrive's vfs and app store: json!({"kind": kind, "drive": drive}).to_string() (keys sorted).
    from hyperpy.node.well_known import drive_cap_params, drive_caps

    assert drive_cap_params("read", "/a:b.os/data") == '{"drive":"/a:b.os/data","kind":"read"}'
    assert [cap.params for cap in drive_caps("n.os", "/a:b.os/pkg")] == [
        '{"drive":"/a:b.os/pkg","kind":"read"}',
        '{"drive":"/a:b.os/pkg","kind":"write"}',
    ]
