"""vfs:distro:sys through the NodeServices double: exact bodies, blobs, caps and reply rules."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from module_doubles import FakeNode, request, response_json

from hyperpy.node.modules.vfs import FILE_ACTIONS, VFS_ACTION, VfsModule
from hyperpy.node.wit_types import Address, Capability, Message_Response, ProcessId

APP = "fake.dev@app:pkg:pub"
OTHER = "fake.dev@reader:other:pub"
VFS = "fake.dev@vfs:distro:sys"


async def vfs_call(vfs: VfsModule, node: FakeNode, source: str, path: str, action: object, **kw):
    await vfs.handle(request(source, VFS, {"path": path, "action": action}, **kw))
    return await node.next_sent()


async def started(node: FakeNode) -> VfsModule:
    module = VfsModule()
    await module.start(node)
    return module


def test_every_vfs_action_has_an_implementation() -> None:
    assert set(FILE_ACTIONS) == set(VFS_ACTION.variants)


async def test_create_drive_grants_read_and_write_and_files_land_on_disk(node: FakeNode) -> None:
    vfs = await started(node)
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/data", "CreateDrive")
    assert response_json(reply) == "Ok"
    issuer = Address.parse(VFS)
    for kind in ("read", "write"):
        assert node.has_capability(
            ProcessId.parse("app:pkg:pub"),
            Capability(issuer, json.dumps({"kind": kind, "drive": "/pkg:pub/data"})),
        )
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/data/a.txt", "Write", blob=b"hello", metadata="m1")
    assert response_json(reply) == "Ok"
    assert isinstance(reply.message, Message_Response)
    assert reply.message.value[0].metadata == "m1"
    assert (node.home / "vfs" / "pkg:pub" / "data" / "a.txt").read_bytes() == b"hello"
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/data/a.txt", "Read")
    assert response_json(reply) == "Read"
    assert (reply.lazy_load_blob.mime, reply.lazy_load_blob.bytes) == ("application/octet-stream", b"hello")
    await vfs.stop()


async def test_other_package_needs_caps_and_errors_only_when_expected(node: FakeNode) -> None:
    vfs = await started(node)
    await vfs_call(vfs, node, APP, "/pkg:pub/data", "CreateDrive")
    reply = await vfs_call(vfs, node, OTHER, "/pkg:pub/data/a.txt", "Read")
    assert response_json(reply) == {"Err": "NoReadCap"}
    assert reply.message.value[0].metadata is None
    reply = await vfs_call(vfs, node, OTHER, "/pkg:pub/data/a.txt", "Write", blob=b"x")
    assert response_json(reply) == {"Err": "NoWriteCap"}
    await vfs.handle(
        request(OTHER, VFS, {"path": "/pkg:pub/data/a", "action": "Write"}, expects_response=None)
    )
    assert await node.nothing_sent()
    assert "no write capability for drive /pkg:pub/data" in node.printed()
    node.grant_capabilities(
        ProcessId.parse("reader:other:pub"),
        [Capability(Address.parse(VFS), '{"kind":"read","drive":"/pkg:pub/data"}')],
    )
    await vfs_call(vfs, node, APP, "/pkg:pub/data/a.txt", "Write", blob=b"shared")
    reply = await vfs_call(vfs, node, OTHER, "/pkg:pub/data/a.txt", "ReadToString")
    assert response_json(reply) == {"ReadToString": "shared"}
    reply = await vfs_call(vfs, node, OTHER, "/pkg:pub/elsewhere", "CreateDrive")
    assert response_json(reply) == {"Err": "NoWriteCap"}
    await vfs.stop()


async def test_success_goes_to_rsvp_even_without_expects_response(node: FakeNode) -> None:
    vfs = await started(node)
    reply = await vfs_call(
        vfs, node, APP, "/pkg:pub/d", "CreateDrive", expects_response=None, rsvp="fake.dev@x:pkg:pub"
    )
    assert reply.target == Address.parse("fake.dev@x:pkg:pub")
    await vfs.handle(
        request(APP, VFS, {"path": "/pkg:pub/d/f", "action": "CreateFile"}, expects_response=None)
    )
    assert await node.nothing_sent()
    await vfs.stop()


async def test_cursor_actions_share_one_handle_per_path(node: FakeNode) -> None:
    vfs = await started(node)
    path = "/pkg:pub/d/log.bin"
    await vfs_call(vfs, node, APP, "/pkg:pub/d", "CreateDrive")
    assert response_json(await vfs_call(vfs, node, APP, path, "CreateFile")) == "Ok"
    await vfs_call(vfs, node, APP, path, "WriteAll", blob=b"0123456789")
    await vfs_call(vfs, node, APP, path, "Append", blob=b"AB")
    reply = await vfs_call(vfs, node, APP, path, {"Seek": {"Start": 2}})
    assert response_json(reply) == {"SeekFrom": {"new_offset": 2}}
    reply = await vfs_call(vfs, node, APP, path, {"ReadExact": {"length": 3}})
    assert reply.lazy_load_blob.bytes == b"234"
    reply = await vfs_call(vfs, node, APP, path, "ReadToEnd")
    assert reply.lazy_load_blob.bytes == b"56789AB"
    reply = await vfs_call(vfs, node, APP, path, {"Seek": {"End": -2}})
    assert response_json(reply) == {"SeekFrom": {"new_offset": 10}}
    reply = await vfs_call(vfs, node, APP, path, {"ReadExact": {"length": 5}})
    assert response_json(reply) == {"Err": {"IOError": "failed to fill whole buffer"}}
    assert response_json(await vfs_call(vfs, node, APP, path, "Len")) == {"Len": 12}
    await vfs_call(vfs, node, APP, path, {"SetLen": 4})
    reply = await vfs_call(vfs, node, APP, path, "Hash")
    assert response_json(reply) == {"Hash": list(hashlib.sha256(b"0123").digest())}
    reply = await vfs_call(vfs, node, APP, path, "Metadata")
    assert response_json(reply) == {"Metadata": {"file_type": "File", "len": 4}}
    await vfs.stop()


async def test_read_dir_lists_paths_relative_to_the_vfs_root(node: FakeNode) -> None:
    vfs = await started(node)
    await vfs_call(vfs, node, APP, "/pkg:pub/d", "CreateDrive")
    await vfs_call(vfs, node, APP, "/pkg:pub/d/sub", "CreateDir")
    await vfs_call(vfs, node, APP, "/pkg:pub/d/f.txt", "Write", blob=b"")
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/d", "ReadDir")
    entries = sorted(response_json(reply)["ReadDir"], key=lambda entry: entry["path"])
    assert entries == [
        {"path": "pkg:pub/d/f.txt", "file_type": "File"},
        {"path": "pkg:pub/d/sub", "file_type": "Directory"},
    ]
    await vfs.stop()


async def test_root_read_dir_needs_root_and_answers_the_source_always(node: FakeNode) -> None:
    vfs = await started(node)
    await vfs_call(vfs, node, APP, "/pkg:pub/d", "CreateDrive")
    assert response_json(await vfs_call(vfs, node, APP, "/", "ReadDir")) == {"Err": "NoReadCap"}
    node.grant_capabilities(
        ProcessId.parse("app:pkg:pub"), [Capability(Address.parse(VFS), '{"root": true}')]
    )
    await vfs.handle(
        request(APP, VFS, {"path": "/", "action": "ReadDir"}, expects_response=None, metadata="z")
    )
    reply = await node.next_sent()
    assert response_json(reply) == {"ReadDir": [{"path": "pkg:pub", "file_type": "Directory"}]}
    assert reply.message.value[0].metadata == "z"
    await vfs.stop()


async def test_malformed_requests_are_answered_and_explained(node: FakeNode) -> None:
    vfs = await started(node)
    cases = [
        ({"path": "/pkg:pub/d/f"}, "missing field `action`"),
        ({"path": "/pkg:pub/d/f", "action": "Delete"}, "unknown VfsAction variant 'Delete'"),
        ({"path": "/pkg:pub/d/f", "action": {"ReadExact": {"length": "3"}}}, "`action.ReadExact.length`"),
        ({"path": "/pkg:pub/d/f", "action": {"Seek": {"Middle": 1}}}, "unknown SeekFrom variant 'Middle'"),
        ({"path": "/pkg:pub/../../etc/passwd", "action": "Read"}, "climbs out of the vfs root"),
        ({"path": "/nopackage/d/f", "action": "Read"}, "must start with a package id"),
    ]
    for body, explanation in cases:
        await vfs.handle(request(APP, VFS, body))
        assert response_json(await node.next_sent()) == {"Err": "MalformedRequest"}, body
        assert explanation in node.printed(), (explanation, node.printed())
    await vfs.stop()


async def test_io_errors_read_like_rust_and_no_blob_is_reported(node: FakeNode) -> None:
    vfs = await started(node)
    await vfs_call(vfs, node, APP, "/pkg:pub/d", "CreateDrive")
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/d/missing", "Read")
    assert response_json(reply) == {"Err": {"IOError": "No such file or directory (os error 2)"}}
    assert response_json(await vfs_call(vfs, node, APP, "/pkg:pub/d/f", "Write")) == {"Err": "NoBlob"}
    await vfs.stop()


async def test_rename_and_copy_across_drives_check_both_drives(node: FakeNode) -> None:
    vfs = await started(node)
    await vfs_call(vfs, node, APP, "/pkg:pub/a", "CreateDrive")
    await vfs_call(vfs, node, APP, "/pkg:pub/a/f", "Write", blob=b"1")
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/a/f", {"CopyFile": {"new_path": "/pkg:pub/a/g"}})
    assert response_json(reply) == "Ok"
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/a/g", {"Rename": {"new_path": "/other:pub/x/g"}})
    assert response_json(reply) == {"Err": "NoWriteCap"}
    await vfs_call(vfs, node, APP, "/pkg:pub/b", "CreateDrive")
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/a/g", {"Rename": {"new_path": "/pkg:pub/b/h"}})
    assert response_json(reply) == "Ok"
    assert (node.home / "vfs/pkg:pub/b/h").read_bytes() == b"1"
    assert not (node.home / "vfs/pkg:pub/a/g").exists()
    await vfs.stop()


async def test_add_zip_unpacks_the_blob(node: FakeNode) -> None:
    vfs = await started(node)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ui/", "")
        archive.writestr("ui/index.html", "<h1>hi</h1>")
    await vfs_call(vfs, node, APP, "/pkg:pub/pkg", "CreateDrive")
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/pkg", "AddZip", blob=buffer.getvalue())
    assert response_json(reply) == "Ok"
    assert (node.home / "vfs/pkg:pub/pkg/ui/index.html").read_text() == "<h1>hi</h1>"
    reply = await vfs_call(vfs, node, APP, "/pkg:pub/pkg", "AddZip", blob=b"not a zip")
    assert "ParseError" in response_json(reply)["Err"]
    await vfs.stop()


async def test_kernel_is_exempt_and_remote_sources_are_ignored(node: FakeNode) -> None:
    vfs = await started(node)
    reply = await vfs_call(vfs, node, "fake.dev@kernel:distro:sys", "/pkg:pub/pkg/x", "Write", blob=b"k")
    assert response_json(reply) == {"Err": {"IOError": "No such file or directory (os error 2)"}}
    await vfs.handle(request("remote.dev@app:pkg:pub", VFS, {"path": "/pkg:pub/d", "action": "CreateDrive"}))
    assert await node.nothing_sent()
    await vfs.stop()
