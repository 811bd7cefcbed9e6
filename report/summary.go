package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"qcal/internal/graphinfo"
	"qcal/internal/tfname"
)

// maxListed is how many names a text summary lists before "(and N more)".
const maxListed = 10

// SummaryDoc is a graph summary as a document (Write), rendered as
//
//   - "text": summarize_graph's lines in its wording (devices one per line,
//     where TensorFlow runs them together; invalid inputs listed without
//     stopping; variable parameters counted from their shapes, with a note
//     giving TensorFlow's number when it differs), then a "Quantization:"
//     and a "Checks:" section;
//   - "json": the Summary itself, indented, keys in a fixed order and maps
//     sorted by key;
//   - "tf": summarize_graph's stdout byte for byte, through "Op types
//     used" (without its benchmark_model hint); like TensorFlow, it stops
//     with an error after listing invalid inputs.
type SummaryDoc struct{ Summary *graphinfo.Summary }

// WriteText, WriteJSON and WriteTF render the summary (see SummaryDoc).
func (d SummaryDoc) WriteText(w io.Writer) error { return writeSummaryText(w, d.Summary) }
func (d SummaryDoc) WriteTF(w io.Writer) error   { return writeSummaryTF(w, d.Summary) }
func (d SummaryDoc) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(d.Summary, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// HumanReadableNum formats n as TensorFlow's strings::HumanReadableNum
// does: plain below 1000; else divided by 1000 (integer division) while it
// is at least a million, then printed %.2f with k, M, B or T; %.3G from
// 10^15 on.
func HumanReadableNum(n int64) string {
	sign := ""
	v := n
	if v < 0 {
		sign = "-"
		v = -v
		if v < 0 { // math.MinInt64 stays negative, as in TensorFlow
			return sign + strconv.FormatInt(v, 10)
		}
	}
	switch {
	case v < 1000:
		return sign + strconv.FormatInt(v, 10)
	case v >= 1e15:
		return sign + fmt.Sprintf("%.3G", float64(v))
	}
	units := "kMBT"
	u := 0
	for v >= 1_000_000 {
		v /= 1000
		u++
	}
	return sign + fmt.Sprintf("%.2f%c", float64(v)/1000, units[u])
}

// tfHead writes summarize_graph's lines up to the parameter line, with
// varParams as the variable parameter count.
func tfHead(w *bufio.Writer, s *graphinfo.Summary, varParams int64) {
	writeTensors := func(ts []graphinfo.Tensor) {
		for _, t := range ts {
			fmt.Fprintf(w, "(name=%s, type=%s, shape=%s) ", t.Name, t.Type, t.Shape)
		}
		w.WriteByte('\n')
	}
	if len(s.Inputs) == 0 {
		w.WriteString("No inputs spotted.\n")
	} else {
		fmt.Fprintf(w, "Found %d possible inputs: ", len(s.Inputs))
		writeTensors(s.Inputs)
	}
	if len(s.Variables) == 0 {
		w.WriteString("No variables spotted.\n")
	} else {
		fmt.Fprintf(w, "Found %d variables: ", len(s.Variables))
		writeTensors(s.Variables)
	}
	if len(s.Outputs) == 0 {
		w.WriteString("No outputs spotted.\n")
	} else {
		fmt.Fprintf(w, "Found %d possible outputs: ", len(s.Outputs))
		for _, o := range s.Outputs {
			fmt.Fprintf(w, "(name=%s, op=%s) ", o.Name, o.Op)
		}
		w.WriteByte('\n')
	}
	fmt.Fprintf(w, "Found %d (%s) const parameters, %d (%s) variable parameters, and %d control_edges\n",
		s.ConstParameters, HumanReadableNum(s.ConstParameters), varParams, HumanReadableNum(varParams), s.ControlEdges)
}

func writeOpTypes(w *bufio.Writer, counts map[string]int) {
	w.WriteString("Op types used: ")
	for i, oc := range graphinfo.OpCountsTFOrder(counts) {
		if i > 0 {
			w.WriteString(", ")
		}
		fmt.Fprintf(w, "%d %s", oc.Count, oc.Op)
	}
	w.WriteByte('\n')
}

func writeSummaryTF(out io.Writer, s *graphinfo.Summary) error {
	w := bufio.NewWriter(out)
	tfHead(w, s, s.TFVariableParameters)
	for _, d := range slices.Sorted(maps.Keys(s.Devices)) {
		fmt.Fprintf(w, "%d nodes assigned to device '%s'", s.Devices[d], d)
	}
	if len(s.InvalidInputs) > 0 {
		for _, in := range s.InvalidInputs {
			fmt.Fprintf(w, "Invalid input %s for node %s\n", in.Input, in.Node)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return errors.New("Invalid graph with inputs referring to nonexistent nodes") // TensorFlow's words
	}
	writeOpTypes(w, s.OpCounts)
	return w.Flush()
}

func writeSummaryText(out io.Writer, s *graphinfo.Summary) error {
	w := bufio.NewWriter(out)
	tfHead(w, s, s.VariableParameters)
	if s.VariableParameters != s.TFVariableParameters {
		fmt.Fprintf(w, "(TensorFlow's summarize_graph says %d (%s) variable parameters: it reads a value attr that variables lack; qcal counts their shape attrs.)\n",
			s.TFVariableParameters, HumanReadableNum(s.TFVariableParameters))
	}
	for _, d := range slices.Sorted(maps.Keys(s.Devices)) {
		fmt.Fprintf(w, "%d nodes assigned to device '%s'\n", s.Devices[d], d)
	}
	for _, in := range s.InvalidInputs {
		fmt.Fprintf(w, "Invalid input %s for node %s\n", in.Input, in.Node)
	}
	writeOpTypes(w, s.OpCounts)

	q := &s.Quantization
	w.WriteString("\nQuantization:\n")
	if len(q.Ops) == 0 {
		w.WriteString("  ops: none (no quantized ops)\n")
	} else {
		ops := slices.Collect(maps.Keys(q.Ops))
		slices.SortFunc(ops, func(a, b string) int {
			return cmp.Or(cmp.Compare(q.Ops[b], q.Ops[a]), cmp.Compare(a, b))
		})
		w.WriteString("  ops:")
		for i, op := range ops {
			if i > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, " %d %s", q.Ops[op], op)
		}
		w.WriteByte('\n')
	}
	fmt.Fprintf(w, "  requantization ranges: %d (%d logged, %d dynamic)\n", len(q.Ranges), q.Logged, q.Dynamic)
	if q.Logged > 0 && q.Dynamic > 0 {
		var dyn []string
		for _, r := range q.Ranges {
			if r.Status == graphinfo.StatusDynamic {
				dyn = append(dyn, r.Name)
			}
		}
		fmt.Fprintf(w, "  not logged: %s\n", tfname.List(dyn, maxListed))
	}
	fmt.Fprintf(w, "  frozen ranges: %d\n", len(q.Frozen))
	if len(q.FrozenMinMax) > 0 {
		fmt.Fprintf(w, "  frozen Min/Max ops: %d\n", len(q.FrozenMinMax))
	}
	fmt.Fprintf(w, "  Print nodes: %d\n", len(q.Prints))
	if v := q.Intel; v != nil {
		if v.Convs == 0 {
			w.WriteString("  Intel path (qcal quantize): no convolutions")
		} else {
			fmt.Fprintf(w, "  Intel path (qcal quantize): %d of %d convolutions quantized", v.Quantized, v.Convs)
		}
		if len(v.Float) > 0 {
			w.WriteString("; left in FP32:")
		}
		w.WriteByte('\n')
		for i, f := range v.Float {
			if i == maxListed {
				fmt.Fprintf(w, "    (and %d more)\n", len(v.Float)-maxListed)
				break
			}
			fmt.Fprintf(w, "    %s (%s): %s\n", f.Name, f.Op, f.Reason)
		}
		if v.LostClamps > 0 {
			fmt.Fprintf(w, "  Relu6 clamps lost without -per-channel: %d (each Relu6 is fused into an ...AndRelu op; -per-channel keeps them)\n", v.LostClamps)
		}
	}

	c := &s.Checks
	w.WriteString("\nChecks:\n")
	order := "not topological"
	if c.Topological {
		order = "topological"
	}
	fmt.Fprintf(w, "  %d nodes, node order %s, longest input chain %d nodes\n", s.Nodes, order, c.Depth)
	if len(c.Errors) == 0 && len(c.Warnings) == 0 {
		w.WriteString("  no problems found\n")
	}
	for _, p := range c.Errors {
		fmt.Fprintf(w, "  error: %s\n", p.Message)
	}
	for _, p := range c.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", p.Message)
	}
	return w.Flush()
}
