#!/usr/bin/python3
"""verifier.py HEAD.onnx OUT.onnx: the wake-word head's If `then` branch as a model.

openWakeWord's hey_jarvis_v0.1.onnx ends in If(p1 >= 0.5): then a verifier
MLP on the same input x.1, else Identity(p1).  A subgraph's values cannot
be graph outputs, so to give the verifier's node outputs a reference, this
writes the then branch as a standalone model: its nodes, input x.1 (the
head's input), the outer initializers it reads, output p2, same opset.
(Debian's python3-onnx only builds the file; onnxruntime runs it.)
"""
import sys

import onnx
from onnx import helper


def main():
    if len(sys.argv) != 3:
        print("usage: verifier.py HEAD.onnx OUT.onnx", file=sys.stderr)
        return 2
    m = onnx.load(sys.argv[1])
    branch = None
    for n in m.graph.node:
        if n.op_type == "If":
            branch = next(a.g for a in n.attribute if a.name == "then_branch")
    if branch is None:
        print(f"verifier.py: {sys.argv[1]}: no If node", file=sys.stderr)
        return 1
    used = {i for n in branch.node for i in n.input}
    inits = [t for t in m.graph.initializer if t.name in used] + list(branch.initializer)
    graph = helper.make_graph(list(branch.node), "verifier", [m.graph.input[0]], list(branch.output), inits)
    out = helper.make_model(graph, opset_imports=list(m.opset_import), producer_name="m2w verifier.py")
    onnx.checker.check_model(out)
    onnx.save(out, sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
