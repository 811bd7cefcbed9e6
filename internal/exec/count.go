package exec

// CountOps returns how many of the graph's nodes have one of the op types.
func (gr *Graph) CountOps(ops ...string) int {
	n := 0
	for _, nd := range gr.nodes {
		for _, op := range ops {
			if nd.def.GetOp() == op {
				n++
				break
			}
		}
	}
	return n
}
