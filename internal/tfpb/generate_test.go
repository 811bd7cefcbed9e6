package tfpb

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// versionLine matches the tool-version lines protoc-gen-go writes into the
// header of a generated file.
var versionLine = regexp.MustCompile(`(?m)^// \t(protoc-gen-go|protoc) +\S+$`)

// TestGeneratedCodeIsUpToDate runs generate.sh into a temporary directory and
// checks that every committed .pb.go file is byte for byte what it produces.
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping protoc run in -short mode")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found on PATH; cannot run generate.sh")
	}
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc not found on PATH; install protobuf-compiler (3.21.12) to check graph.pb.go")
	}
	// go install puts protoc-gen-go in $(go env GOPATH)/bin, which is often
	// not on PATH.
	if gopath := goEnvGOPATH(t); gopath != "" {
		t.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Join(gopath, "bin"))
	}
	if _, err := exec.LookPath("protoc-gen-go"); err != nil {
		t.Skip("protoc-gen-go not found on PATH or in $(go env GOPATH)/bin; install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12 to check graph.pb.go")
	}

	dir := t.TempDir()
	cmd := exec.Command("bash", "generate.sh", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("generate.sh %s: %v\n%s", dir, err, stderr.String())
	}
	written, err := filepath.Glob(filepath.Join(dir, "*.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(generatedFiles) {
		t.Errorf("generate.sh wrote %d files %q, the test knows %d %q", len(written), written, len(generatedFiles), generatedFiles)
	}
	for _, name := range generatedFiles {
		t.Run(name, func(t *testing.T) { compareGenerated(t, dir, name) })
	}
}

// generatedFiles are the files generate.sh writes, one per .proto file.
var generatedFiles = []string{"graph.pb.go", "checkpoint.pb.go", "meta_graph.pb.go"}

// compareGenerated checks that the committed file name is byte for byte the
// one generate.sh wrote into dir.
func compareGenerated(t *testing.T, dir, name string) {
	got, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotVersions := versionLine.FindAllString(string(got), -1)
	wantVersions := versionLine.FindAllString(string(want), -1)
	if bytes.Equal(versionLine.ReplaceAll(got, nil), versionLine.ReplaceAll(want, nil)) {
		t.Skipf("%s matches the generated code except for the tool versions in its header: committed %q, local tools %q; install protoc 3.21.12 and protoc-gen-go v1.36.12 for an exact check",
			name, wantVersions, gotVersions)
	}
	t.Errorf("%s is not what generate.sh produces (committed tools %q, local tools %q); run `go generate ./internal/tfpb` and commit the result.\nfirst difference: %s",
		name, wantVersions, gotVersions, firstDiff(want, got))
}

func goEnvGOPATH(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// firstDiff describes the first line on which a and b differ.
func firstDiff(a, b []byte) string {
	al := strings.Split(string(a), "\n")
	bl := strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  committed: %s\n  generated: %s", i+1, x, y)
		}
	}
	return "none"
}
