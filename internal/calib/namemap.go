package calib

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"qcal/internal/tfname"
)

// MapName returns the RequantizationRange node whose range the values logged
// under name calibrate: a trailing "__print__" is dropped and
// "_eightbit_requant_range" appended, unless the name already ends with it
// (a `__requant_min_max` record names the RequantizationRange itself).
//
// This is Intel's rule for `__KL:` records of the FP32 graph: the key of a
// node's histogram is print_node_mapping[name] + '_eightbit_requant_range'
// (graph_converter.py in intel/neural-compressor, where print_node_mapping
// maps the logged FP32 node to the quantized op's name). Graphs whose
// names do not follow it need a -map file (ParseNameMap).
func MapName(name string) string {
	name = strings.TrimSuffix(name, tfname.PrintSuffix)
	if strings.HasSuffix(name, tfname.RequantRangeSuffix) {
		return name
	}
	return name + tfname.RequantRangeSuffix
}

// maxMapErrors is how many bad lines ParseNameMap reports before
// summarising the rest.
const maxMapErrors = 10

// ParseNameMap reads a name map: one mapping a line, two fields separated
// by spaces or tabs, `logged_name graph_name`; `#` starts a comment (TF node
// names cannot contain it); blank lines are ignored. file names the input
// in errors, which read "file:line: msg". Every line is read: the error
// lists the first 10 bad lines and the number of others. A logged name
// mapped twice is an error unless both lines agree.
func ParseNameMap(r io.Reader, file string) (map[string]string, error) {
	m := make(map[string]string)
	where := make(map[string]int) // line of each logged name
	var errs []error
	bad := 0
	fail := func(line int, format string, args ...any) {
		bad++
		if bad <= maxMapErrors {
			errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
		}
	}
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		text, err := br.ReadString('\n')
		if text == "" && err != nil {
			if err != io.EOF {
				return nil, fmt.Errorf("%s:%d: %w", file, line, err)
			}
			break
		}
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a byte order mark an editor wrote
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		switch {
		case len(f) == 0:
			continue
		case len(f) != 2:
			fail(line, "want two fields `logged_name graph_name`, got %d", len(f))
			continue
		}
		if prev, ok := m[f[0]]; ok {
			if prev != f[1] {
				fail(line, "%q mapped to %q here but to %q at line %d", f[0], f[1], prev, where[f[0]])
			}
			continue
		}
		m[f[0]], where[f[0]] = f[1], line
	}
	if bad > maxMapErrors {
		errs = append(errs, fmt.Errorf("(and %d more)", bad-maxMapErrors))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}
