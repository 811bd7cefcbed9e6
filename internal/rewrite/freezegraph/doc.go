// Package freezegraph does the job of TensorFlow's freeze_graph.py: it turns
// the variables of a graph into Const nodes holding their values from a
// checkpoint and keeps only what the requested outputs need. It is step 2
// of the workflow (checkpoint/SavedModel → freeze-graph → GraphDef →
// transform …): graph rewrites sit above internal/graphio (which loads the
// GraphDef, MetaGraphDef or SavedModel) and internal/checkpoint (which reads
// the variable values); cmd/qcal's freeze-graph command drives it.
//
// The rewrite follows TensorFlow's convert_variables_to_constants
// (TF-FILES.md §7):
//
//  1. Keep the nodes the outputs reach through data inputs, control inputs
//     and `_class` "loc:@" colocation, in their original order.
//  2. Each kept Variable, VariableV2 or VarHandleOp node becomes a Const of
//     the same name: attr dtype copied from the variable, attr value the
//     checkpoint tensor laid out as TensorFlow's make_tensor_proto lays it
//     out (tensor_content for more than one element of a packed dtype, the
//     typed *_val field otherwise). Device, _class and the variable's other
//     attrs are dropped, as TensorFlow drops them.
//  3. A ReadVariableOp of a converted variable becomes an Identity of the
//     same name with its first input, T set to its dtype, and _class kept;
//     Identity, Enter, Exit, Switch, Merge and NextIteration nodes that pass
//     the variable's resource handle along get T set to the value type and
//     lose _output_shapes; ResourceGather becomes GatherV2 with a new
//     `<name>/axis` Const, ResourceGatherNd becomes GatherNd.
//  4. Everything else is copied unchanged (the `<var>/read` Identity nodes
//     of reference variables included).
//
// Checkpoint keys come from the graph's own saver when it has one (the
// RestoreV2 op's tensor_names, followed through Identity to the Assign or
// AssignVariableOp of each variable), which is how freeze_graph.py restores
// a .meta or SavedModel; otherwise, and for keys the checkpoint lacks, they
// are the variable node names, as freeze_graph.py maps them when it has only
// a GraphDef; a VarHandleOp whose name is not a key is looked up by its
// shared_name. A missing variable, or one whose dtype or
// shape disagrees with the graph, is an error naming it and both sides.
// Nodes the outputs need that write or test a converted variable (Assign,
// AssignVariableOp, VarIsInitializedOp, …) are an error too: TensorFlow
// would write a graph that cannot run.
//
// One deliberate difference: TensorFlow's converter drops the graph's
// versions field (the producer version); qcal keeps it. The function
// library is kept, as TensorFlow keeps it.
package freezegraph
