#!/usr/bin/python3
"""Checks one model directory of a Triton repository written by `pnpm export --triton`.

config.pbtxt must parse, strictly, as a Triton ModelConfig in protobuf text format, and must name what the ONNX
model in 1/model.onnx has: every graph input and output, with its data type and its dims after the batch
dimension; the label file must hold one label per class. Triton's model_config.proto is not installed here, so
the descriptor below declares the ModelConfig fields depthfold writes, with the field numbers and enum values of
triton-inference-server/common protobuf/model_config.proto (an unknown field, or a misspelt one, fails to parse).

Usage: triton-config-check.py MODEL_DIR    Exit 0 when the directory is sound; 1 with each problem on stderr.
"""
import os
import sys

import onnx
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

F = descriptor_pb2.FieldDescriptorProto

# inference.DataType, model_config.proto.
DATA_TYPES = ["TYPE_INVALID", "TYPE_BOOL", "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64", "TYPE_INT8",
              "TYPE_INT16", "TYPE_INT32", "TYPE_INT64", "TYPE_FP16", "TYPE_FP32", "TYPE_FP64", "TYPE_STRING", "TYPE_BF16"]
# ONNX TensorProto.DataType to Triton's, for the types a config could name.
ONNX_TO_TRITON = {1: "TYPE_FP32", 2: "TYPE_UINT8", 3: "TYPE_INT8", 4: "TYPE_UINT16", 5: "TYPE_INT16", 6: "TYPE_INT32",
                  7: "TYPE_INT64", 8: "TYPE_STRING", 9: "TYPE_BOOL", 10: "TYPE_FP16", 11: "TYPE_FP64",
                  12: "TYPE_UINT32", 13: "TYPE_UINT64", 16: "TYPE_BF16"}


def model_config_class():
    """ModelConfig with the fields depthfold writes (numbers as in model_config.proto)."""
    proto = descriptor_pb2.FileDescriptorProto(name="depthfold/triton_model_config.proto", package="inference", syntax="proto3")
    enum = proto.enum_type.add(name="DataType")
    for number, name in enumerate(DATA_TYPES):
        enum.value.add(name=name, number=number)

    def message(name, fields):
        msg = proto.message_type.add(name=name)
        for field_name, number, kind, repeated, type_name in fields:
            field = msg.field.add(name=field_name, number=number, type=kind,
                                  label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
            if type_name:
                field.type_name = type_name

    message("ModelInput", [("name", 1, F.TYPE_STRING, False, None),
                           ("data_type", 2, F.TYPE_ENUM, False, ".inference.DataType"),
                           ("dims", 4, F.TYPE_INT64, True, None)])
    message("ModelOutput", [("name", 1, F.TYPE_STRING, False, None),
                            ("data_type", 2, F.TYPE_ENUM, False, ".inference.DataType"),
                            ("dims", 3, F.TYPE_INT64, True, None),
                            ("label_filename", 4, F.TYPE_STRING, False, None)])
    message("ModelDynamicBatching", [("preferred_batch_size", 1, F.TYPE_INT32, True, None),
                                     ("max_queue_delay_microseconds", 2, F.TYPE_UINT64, False, None)])
    message("ModelConfig", [("name", 1, F.TYPE_STRING, False, None),
                            ("platform", 2, F.TYPE_STRING, False, None),
                            ("max_batch_size", 4, F.TYPE_INT32, False, None),
                            ("input", 5, F.TYPE_MESSAGE, True, ".inference.ModelInput"),
                            ("output", 6, F.TYPE_MESSAGE, True, ".inference.ModelOutput"),
                            ("dynamic_batching", 11, F.TYPE_MESSAGE, False, ".inference.ModelDynamicBatching")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    descriptor = pool.FindMessageTypeByName("inference.ModelConfig")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def graph_tensors(values, initializers=()):
    """name -> (Triton data type, dims) of graph inputs or outputs; symbolic dims as None."""
    out = {}
    for v in values:
        if v.name in initializers:
            continue
        t = v.type.tensor_type
        dims = [None if d.dim_param or not d.HasField("dim_value") else d.dim_value for d in t.shape.dim]
        out[v.name] = (ONNX_TO_TRITON.get(t.elem_type, "elem_type %d" % t.elem_type), dims)
    return out


def check(model_dir):
    problems = []
    with open(os.path.join(model_dir, "config.pbtxt"), encoding="utf-8") as f:
        text = f.read()
    config = model_config_class()()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as error:
        return ["config.pbtxt does not parse as a Triton ModelConfig: %s" % error]

    name = os.path.basename(os.path.normpath(model_dir))
    if config.name != name:
        problems.append("name %r is not the directory's name %r" % (config.name, name))
    if config.platform != "onnxruntime_onnx":
        problems.append("platform %r is not \"onnxruntime_onnx\"" % config.platform)
    if config.max_batch_size < 1:
        problems.append("max_batch_size %d: the model has a batch dimension, so it must be >= 1" % config.max_batch_size)
    if not config.HasField("dynamic_batching"):
        problems.append("no dynamic_batching")

    model_path = os.path.join(model_dir, "1", "model.onnx")
    model = onnx.load(model_path)
    onnx.checker.check_model(model)
    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    for kind, declared, actual in (("input", config.input, graph_tensors(graph.input, initializers)),
                                   ("output", config.output, graph_tensors(graph.output))):
        seen = set()
        for entry in declared:
            seen.add(entry.name)
            if entry.name not in actual:
                problems.append("%s %r is not an %s of the model (it has %s)" % (kind, entry.name, kind, sorted(actual)))
                continue
            data_type, dims = actual[entry.name]
            declared_type = DATA_TYPES[entry.data_type]
            if declared_type != data_type:
                problems.append("%s %r: data_type %s, but the model's is %s" % (kind, entry.name, declared_type, data_type))
            if not dims or dims[0] is not None:
                problems.append("%s %r: the model has no variable batch dimension (dims %s)" % (kind, entry.name, dims))
            elif list(entry.dims) != dims[1:]:
                problems.append("%s %r: dims %s, but the model's are %s after the batch" % (kind, entry.name, list(entry.dims), dims[1:]))
            if kind == "output" and entry.label_filename:
                labels_path = os.path.join(model_dir, entry.label_filename)
                if not os.path.isfile(labels_path):
                    problems.append("output %r: label_filename %r does not exist" % (entry.name, entry.label_filename))
                else:
                    with open(labels_path, encoding="utf-8") as f:
                        labels = f.read().splitlines()
                    classes = entry.dims[-1] if entry.dims else 0
                    if len(labels) != classes:
                        problems.append("output %r: %s holds %d labels for %d classes" % (entry.name, entry.label_filename, len(labels), classes))
        for missing in sorted(set(actual) - seen):
            problems.append("the model's %s %r is missing from config.pbtxt" % (kind, missing))
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: triton-config-check.py MODEL_DIR")
    problems = check(sys.argv[1])
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("ok: %s" % sys.argv[1])


if __name__ == "__main__":
    main()
