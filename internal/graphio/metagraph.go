package graphio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// ErrNotMetaGraph is wrapped by the errors for input that is not a
// MetaGraphDef (a .meta file) or not a SavedModel.
var ErrNotMetaGraph = errors.New("not a TensorFlow MetaGraphDef")

// DecodeMetaGraph parses a MetaGraphDef, binary (as tf.train.Saver writes
// .meta files) or text, detected from the bytes. It must hold a graph_def
// that passes the checks of Decode. name identifies the input in errors.
func DecodeMetaGraph(data []byte, name string) (*tfpb.MetaGraphDef, error) {
	mg := new(tfpb.MetaGraphDef)
	if err := unmarshalEither(data, mg); err != nil {
		return nil, notMetaGraph(data, name, err.Error())
	}
	if err := checkMetaGraph(mg); err != nil {
		return nil, notMetaGraph(data, name, err.Error())
	}
	return mg, nil
}

// LoadMetaGraph reads and decodes the MetaGraphDef in the file at path.
func LoadMetaGraph(path string) (*tfpb.MetaGraphDef, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeMetaGraph(data, path)
}

// unmarshalEither decodes text when the bytes look like protobuf text
// format, binary otherwise.
func unmarshalEither(data []byte, m proto.Message) error {
	body := trimBOM(data)
	if looksLikeText(body) {
		if err := (prototext.UnmarshalOptions{}).Unmarshal(body, m); err == nil {
			return nil
		} else if berr := proto.Unmarshal(data, m); berr != nil {
			return fmt.Errorf("text format: %s", trimProtoPrefix(err.Error()))
		}
		return nil
	}
	if err := proto.Unmarshal(data, m); err != nil {
		return fmt.Errorf("binary protobuf: %s", trimProtoPrefix(err.Error()))
	}
	return nil
}

// checkMetaGraph reports whether mg plausibly is a MetaGraphDef.
func checkMetaGraph(mg *tfpb.MetaGraphDef) error {
	if mg.GetGraphDef() == nil {
		return errors.New("it has no graph_def")
	}
	if err := validate(mg.GetGraphDef()); err != nil {
		return fmt.Errorf("its graph_def is not a GraphDef: %w", err)
	}
	return nil
}

func notMetaGraph(data []byte, name, reason string) error {
	if _, f, err := Decode(data, name); err == nil {
		reason = fmt.Sprintf("this is a %s GraphDef, not a MetaGraphDef", f)
	} else if savedModelHint(data) != "" {
		reason = "this is a SavedModel (saved_model.pb), not a MetaGraphDef"
	}
	return fmt.Errorf("%s: %w: %s", name, ErrNotMetaGraph, reason)
}

// SavedModel is one meta graph of a SavedModel directory.
type SavedModel struct {
	// Dir is the SavedModel directory.
	Dir string
	// Path is the saved_model.pb or saved_model.pbtxt file read.
	Path string
	// MetaGraph is the chosen meta graph.
	MetaGraph *tfpb.MetaGraphDef
	// Variables is the prefix of the variables checkpoint,
	// DIR/variables/variables, or "" when the directory has none.
	Variables string
}

// LoadSavedModel reads the SavedModel in dir (saved_model.pb, else
// saved_model.pbtxt) and picks one of its meta graphs: with tags, the one
// whose tag set is exactly tags (in any order, as TensorFlow's loader
// matches); without, the only meta graph, or else the one tagged just
// "serve". Errors list the tag sets that exist.
func LoadSavedModel(dir string, tags []string) (*SavedModel, error) {
	path := filepath.Join(dir, "saved_model.pb")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		path = filepath.Join(dir, "saved_model.pbtxt")
		data, err = os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: not a SavedModel directory: no saved_model.pb or saved_model.pbtxt", dir)
		}
	}
	if err != nil {
		return nil, err
	}
	sm, err := DecodeSavedModel(data, path)
	if err != nil {
		return nil, err
	}
	mg, err := pickMetaGraph(sm, tags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := &SavedModel{Dir: dir, Path: path, MetaGraph: mg}
	if prefix := filepath.Join(dir, "variables", "variables"); fileExists(prefix + ".index") {
		out.Variables = prefix
	}
	return out, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// DecodeSavedModel parses a SavedModel message (binary or text) and checks
// that each of its meta graphs holds a graph.
func DecodeSavedModel(data []byte, name string) (*tfpb.SavedModel, error) {
	sm := new(tfpb.SavedModel)
	if err := unmarshalEither(data, sm); err != nil {
		return nil, fmt.Errorf("%s: %w: not a SavedModel: %s", name, ErrNotMetaGraph, err)
	}
	if len(sm.GetMetaGraphs()) == 0 {
		return nil, fmt.Errorf("%s: %w: not a SavedModel: it has no meta graphs", name, ErrNotMetaGraph)
	}
	for i, mg := range sm.GetMetaGraphs() {
		if err := checkMetaGraph(mg); err != nil {
			return nil, fmt.Errorf("%s: meta graph #%d (tags %q): %w: %s", name, i, mg.GetMetaInfoDef().GetTags(), ErrNotMetaGraph, err)
		}
	}
	return sm, nil
}

// pickMetaGraph chooses the meta graph of sm that tags name; see
// LoadSavedModel.
func pickMetaGraph(sm *tfpb.SavedModel, tags []string) (*tfpb.MetaGraphDef, error) {
	mgs := sm.GetMetaGraphs()
	var want []string
	switch {
	case len(tags) > 0:
		want = tags
	case len(mgs) == 1:
		return mgs[0], nil
	default:
		want = []string{"serve"}
	}
	key := tagSet(want)
	var available []string
	for _, mg := range mgs {
		got := tagSet(mg.GetMetaInfoDef().GetTags())
		if got == key {
			return mg, nil
		}
		available = append(available, "["+got+"]")
	}
	return nil, fmt.Errorf("no meta graph with tags [%s]; the SavedModel has %s", key, strings.Join(available, ", "))
}

// tagSet is a canonical spelling of a set of tags.
func tagSet(tags []string) string {
	s := slices.Clone(tags)
	sort.Strings(s)
	return strings.Join(slices.Compact(s), ",")
}

// Variables decodes the VariableDef records of collection (usually
// "variables" or "trainable_variables") in mg, in collection order; a
// missing collection gives none.
func Variables(mg *tfpb.MetaGraphDef, collection string) ([]*tfpb.VariableDef, error) {
	c, ok := mg.GetCollectionDef()[collection]
	if !ok {
		return nil, nil
	}
	if c.GetBytesList() == nil {
		return nil, fmt.Errorf("collection %q is not a bytes_list of VariableDef", collection)
	}
	var out []*tfpb.VariableDef
	for i, b := range c.GetBytesList().GetValue() {
		v := new(tfpb.VariableDef)
		if err := proto.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("collection %q item %d: bad VariableDef: %s", collection, i, trimProtoPrefix(err.Error()))
		}
		out = append(out, v)
	}
	return out, nil
}
