package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/tfpb"
)

// TestInsertLoggingRoundTrip is the proof that the workflow closes: qcal
// instruments the eightbit graph, the test writes what TF's Print ops would
// print for chosen per-batch ranges (the Print node's own message, then each
// logged output as "[value]" formatted %.6g-else-%.9g; concurrent Prints
// sharing a line now and then), and qcal freeze reads it back into exactly
// the ranges the test started from.
func TestInsertLoggingRoundTrip(t *testing.T) {
	dir := t.TempDir()
	layers := synth.DemoLayers()
	graph := filepath.Join(dir, "quantized.pb")
	if err := graphio.Save(graph, synth.Graph(layers), graphio.Binary); err != nil {
		t.Fatal(err)
	}
	logged := filepath.Join(dir, "logged.pb")
	if code, _, stderr := qcal(t, "", "insert-logging", "-graph", graph, "-o", logged); code != 0 {
		t.Fatalf("insert-logging: exit %d: %s", code, stderr)
	}
	g := loadGraph(t, logged)
	var prints []*tfpb.NodeDef
	for _, n := range g.GetNode() {
		if n.GetOp() == "Print" {
			prints = append(prints, n)
		}
	}
	if len(prints) != len(layers) {
		t.Fatalf("%d Print nodes, want %d", len(prints), len(layers))
	}

	// Per-batch ranges, with values that need 9 digits, exponents and -0.
	rng := rand.New(rand.NewPCG(7, 7))
	const batches = 37
	type rr struct{ lo, hi float32 }
	want := map[string]rr{} // minmax over the batches, per RequantizationRange node
	var log strings.Builder
	log.WriteString("2019-02-24 03:51:33.625180: I tensorflow/core/platform/cpu_feature_guard.cc:145] noise\n")
	for b := 0; b < batches; b++ {
		for i, p := range prints {
			node := strings.TrimSuffix(p.GetName(), "__print__")
			lo := -float32(rng.ExpFloat64()) * 3
			hi := float32(rng.ExpFloat64()) * 7
			switch (b + i) % 5 {
			case 0:
				lo = float32(math.Copysign(0, -1))
			case 1:
				hi = 2.4e-05
			}
			w, ok := want[node]
			if !ok {
				w = rr{lo, hi}
			}
			w.lo, w.hi = min(w.lo, lo), max(w.hi, hi)
			want[node] = w
			log.WriteString(string(p.GetAttr()["message"].GetS()))
			log.WriteString("[" + string(synth.AppendFloat(nil, lo)) + "][" + string(synth.AppendFloat(nil, hi)) + "]")
			if (b*len(prints)+i)%11 != 3 { // every 11th record shares its line with the next
				log.WriteString("\n")
			}
		}
	}
	log.WriteString("\n")
	logPath := writeText(t, dir, "min_max_log.txt", log.String())
	frozen := filepath.Join(dir, "frozen.pb")
	// Freeze into the graph without Print nodes (the workflow freezes the
	// quantized graph, not the logged one).
	code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", logPath, "-o", frozen, "-strategy", "minmax", "-strict")
	if code != 0 {
		t.Fatalf("freeze: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "296 records") {
		t.Errorf("summary %q, want 296 records (37 batches × 8 nodes)", stderr)
	}
	got := map[string]float32{}
	for _, n := range loadGraph(t, frozen).GetNode() {
		if tp := n.GetAttr()["value"].GetTensor(); n.GetOp() == "Const" && strings.Contains(n.GetName(), "/frozen_") {
			got[n.GetName()] = math.Float32frombits(binary.LittleEndian.Uint32(tp.GetTensorContent()))
		}
	}
	for node, w := range want {
		lo, hi := got[node+"/frozen_min"], got[node+"/frozen_max"]
		// A zero bound comes back as +0 (see stats.orderKey); minmax does not
		// select, so compare values, not bits.
		if lo != w.lo || hi != w.hi {
			t.Errorf("%s: frozen [%v, %v], started from [%v, %v]", node, lo, hi, w.lo, w.hi)
		}
	}
	if len(got) != 2*len(want) {
		t.Errorf("%d frozen Consts, want %d", len(got), 2*len(want))
	}
	if _, err := os.Stat(frozen); err != nil {
		t.Fatal(err)
	}
}
