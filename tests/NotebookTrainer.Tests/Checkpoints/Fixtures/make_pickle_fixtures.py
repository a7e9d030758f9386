"""Writes the small PyTorch-style pickle checkpoints the C# tests read.

No torch is needed: stand-in `torch` / `torch._utils` modules make CPython's own pickler emit exactly the
opcodes, globals and persistent ids that torch.save (zip format, pickle protocol 2) emits, and the zip is laid
out the same way (archive/data.pkl, archive/byteorder, archive/data/<key>, stored uncompressed).
Run: python3 make_pickle_fixtures.py   (from this folder)
"""
import collections, io, pickle, struct, sys, types, zipfile

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
torch._utils = utils


def _rebuild_tensor_v2(*args):
    raise RuntimeError("never called while writing")


_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2

STORAGE_FORMATS = {"FloatStorage": "<f", "HalfStorage": "<e", "LongStorage": "<q"}
for name in STORAGE_FORMATS:
    cls = type(name, (), {"__module__": "torch"})
    setattr(torch, name, cls)


class Storage:
    def __init__(self, kind, key, values):
        self.kind, self.key, self.values = kind, key, values

    def data(self):
        return b"".join(struct.pack(STORAGE_FORMATS[self.kind], v) for v in self.values)


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, (self.storage, self.offset, tuple(self.size), tuple(self.stride), False, collections.OrderedDict()))


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", getattr(torch, obj.kind), obj.key, "cpu", len(obj.values))
        return None


def save(path, root, storages, byteorder="little"):
    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump(root)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buffer.getvalue())
        z.writestr("archive/byteorder", byteorder)
        for s in storages:
            z.writestr(f"archive/data/{s.key}", s.data())
        z.writestr("archive/version", "3\n")


# A Lightning-style checkpoint: metadata around a state_dict, fp32 / fp16 / int64 tensors, a transposed
# (non-contiguous) view and two tensors sharing one storage at different offsets.
weights = Storage("FloatStorage", "0", [float(i) for i in range(6)])
half = Storage("HalfStorage", "1", [0.5, -1.0, 2.0, 4.0])
ids = Storage("LongStorage", "2", list(range(77)))
shared = Storage("FloatStorage", "3", [10.0, 11.0, 12.0, 13.0, 14.0])
state = collections.OrderedDict([
    ("model.w", Tensor(weights, 0, [2, 3], [3, 1])),
    ("model.w_t", Tensor(weights, 0, [3, 2], [1, 3])),
    ("model.half", Tensor(half, 0, [2, 2], [2, 1])),
    ("cond_stage_model.transformer.text_model.embeddings.position_ids", Tensor(ids, 0, [1, 77], [77, 1])),
    ("model.head", Tensor(shared, 0, [2], [1])),
    ("model.tail", Tensor(shared, 2, [3], [1])),
    ("model.scalar", Tensor(shared, 4, [], [])),
])
save("lightning_state_dict.ckpt", {"epoch": 3, "global_step": 1200, "pytorch-lightning_version": "1.4.2",
                                   "state_dict": state}, [weights, half, ids, shared])

# A flat state dict (how torch.save(model.state_dict()) and LoRA .pt files look).
lora_down = Storage("FloatStorage", "0", [0.0] * 8)
save("flat_lora.pt", collections.OrderedDict([
    ("lora_unet_mid_block_attentions_0_proj_in.lora_down.weight", Tensor(lora_down, 0, [2, 4], [4, 1])),
]), [lora_down])

# A pickle that would run a shell command if unpickled by torch.load(weights_only=False).
class Exploit:
    def __reduce__(self):
        import os
        return (os.system, ("touch pwned-by-pickle",))


buffer = io.BytesIO()
pickle.Pickler(buffer, protocol=2).dump({"state_dict": Exploit()})
with zipfile.ZipFile("malicious.ckpt", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", buffer.getvalue())
    z.writestr("archive/byteorder", "little")

# The pre-1.6 torch.save format: a bare pickle stream (magic number first), not a zip.
with open("legacy.ckpt", "wb") as f:
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
    pickle.dump({"state_dict": {}}, f, protocol=2)
