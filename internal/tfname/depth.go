package tfname

// Node is what Depths reads of a graph node; *tfpb.NodeDef is one.
type Node interface {
	GetName() string
	GetInput() []string
}

// Depths returns, for each node, the length in edges of the longest chain
// of inputs (data and control) from a node without inputs, or -1 for a node
// on or behind a cycle. Inputs are read with NodeName; inputs naming no
// node are ignored, and of nodes sharing a name the first counts. When skip
// is not nil, edges from a producer for which it reports true are left out
// (a loop's NextIteration back edge, for one).
func Depths[N Node](nodes []N, skip func(producer N) bool) []int {
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, dup := index[n.GetName()]; !dup {
			index[n.GetName()] = i
		}
	}
	// Longest path by Kahn's algorithm over producer → consumer edges.
	succ := make([][]int, len(nodes))
	pending := make([]int, len(nodes))
	for v, n := range nodes {
		for _, in := range n.GetInput() {
			u, ok := index[NodeName(in)]
			if !ok || (skip != nil && skip(nodes[u])) {
				continue
			}
			succ[u] = append(succ[u], v)
			pending[v]++
		}
	}
	depth := make([]int, len(nodes))
	var queue []int
	for v := range nodes {
		depth[v] = -1
		if pending[v] == 0 {
			queue = append(queue, v)
			depth[v] = 0
		}
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, v := range succ[u] {
			depth[v] = max(depth[v], depth[u]+1)
			if pending[v]--; pending[v] == 0 {
				queue = append(queue, v)
			}
		}
	}
	for v := range nodes {
		if pending[v] > 0 {
			depth[v] = -1 // on or behind a cycle
		}
	}
	return depth
}
