package freezegraph

import (
	"errors"
	"fmt"
	"path/filepath"

	"qcal/internal/checkpoint"
	"qcal/internal/graphio"
	"qcal/internal/tfpb"
)

// Input says where the graph and the variable values come from, as
// freeze_graph.py's flags do. Exactly one of Graph, MetaGraph and
// SavedModelDir is set.
type Input struct {
	// Graph is a GraphDef file, binary or text (input_graph).
	Graph string
	// MetaGraph is a .meta file (input_meta_graph).
	MetaGraph string
	// SavedModelDir is a SavedModel directory (input_saved_model_dir), and
	// Tags picks its meta graph (saved_model_tags; empty: the only one, or
	// the one tagged "serve").
	SavedModelDir string
	Tags          []string
	// Checkpoint is a V2 checkpoint prefix, .index file or directory with a
	// checkpoint state file (input_checkpoint). For a SavedModel it may be
	// left empty, and the SavedModel's variables/ are used; given, it
	// replaces them (freeze_graph.py always uses variables/).
	Checkpoint string
}

// Source is a loaded graph with its checkpoint open.
type Source struct {
	Graph      *tfpb.GraphDef
	Checkpoint *checkpoint.Reader
	// Files are the files read: the graph file and the checkpoint's index
	// and data files. An output must not be one of them.
	Files []string
}

// Open loads the graph that in names and opens its checkpoint. Close the
// Source when done.
func Open(in Input) (*Source, error) {
	given := 0
	for _, s := range []string{in.Graph, in.MetaGraph, in.SavedModelDir} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return nil, errors.New("give exactly one of input_graph, input_meta_graph and input_saved_model_dir")
	}
	src := &Source{}
	ckpt := in.Checkpoint
	switch {
	case in.Graph != "":
		g, _, err := graphio.Load(in.Graph)
		if err != nil {
			return nil, err
		}
		src.Graph = g
		src.Files = append(src.Files, in.Graph)
	case in.MetaGraph != "":
		mg, err := graphio.LoadMetaGraph(in.MetaGraph)
		if err != nil {
			return nil, err
		}
		src.Graph = mg.GetGraphDef()
		src.Files = append(src.Files, in.MetaGraph)
	default:
		sm, err := graphio.LoadSavedModel(in.SavedModelDir, in.Tags)
		if err != nil {
			return nil, err
		}
		src.Graph = sm.MetaGraph.GetGraphDef()
		src.Files = append(src.Files, sm.Path)
		if ckpt == "" {
			if sm.Variables == "" {
				return nil, fmt.Errorf("%s: the SavedModel has no variables/variables.index; give the checkpoint with input_checkpoint", in.SavedModelDir)
			}
			ckpt = sm.Variables
		}
	}
	if ckpt == "" {
		return nil, errors.New("no checkpoint: give input_checkpoint")
	}
	r, err := checkpoint.Open(ckpt)
	if err != nil {
		return nil, err
	}
	src.Checkpoint = r
	src.Files = append(src.Files, r.Prefix()+".index")
	src.Files = append(src.Files, r.DataFiles()...)
	// The state file, when the checkpoint was found through it.
	if ckpt != r.Prefix() && filepath.Ext(ckpt) != ".index" {
		src.Files = append(src.Files, filepath.Join(filepath.Dir(r.Prefix()), "checkpoint"))
	}
	return src, nil
}

// Close closes the checkpoint.
func (s *Source) Close() error {
	if s.Checkpoint == nil {
		return nil
	}
	return s.Checkpoint.Close()
}
