package graphio

import (
	"os"
	"path/filepath"
	"strings"

	"qcal/internal/tfpb"
)

// LoadModel reads the GraphDef of whatever holds one: a SavedModel folder
// (or its saved_model.pb/.pbtxt; the only meta graph, else the one tagged
// "serve"), a MetaGraphDef file (.meta), or a GraphDef, binary or text.
// It says which it read in kind: "SavedModel", "MetaGraph" or "GraphDef".
func LoadModel(path string) (g *tfpb.GraphDef, kind string, err error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		sm, err := LoadSavedModel(path, nil)
		if err != nil {
			return nil, "", err
		}
		return sm.MetaGraph.GetGraphDef(), "SavedModel", nil
	}
	switch base := filepath.Base(path); {
	case base == "saved_model.pb" || base == "saved_model.pbtxt":
		sm, err := LoadSavedModel(filepath.Dir(path), nil)
		if err != nil {
			return nil, "", err
		}
		return sm.MetaGraph.GetGraphDef(), "SavedModel", nil
	case strings.HasSuffix(base, ".meta"):
		mg, err := LoadMetaGraph(path)
		if err != nil {
			return nil, "", err
		}
		return mg.GetGraphDef(), "MetaGraph", nil
	}
	g, _, err = Load(path)
	return g, "GraphDef", err
}
