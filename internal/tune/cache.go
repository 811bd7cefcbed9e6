package tune

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultCacheMax is the cache's size limit when Options.CacheMax is 0:
// 1 GiB, room for the FP32 predictions of many runs and the calibration
// logs of small models (an MNIST CNN's, 10 batches of 64: about 35 MB).
const DefaultCacheMax = 1 << 30

func (opt *Options) cacheMax() int64 {
	if opt.CacheMax > 0 {
		return opt.CacheMax
	}
	return DefaultCacheMax
}

// reuse returns the path of a cache entry that exists and marks it used
// (its modification time is now), so that pruning removes the entries
// least recently used first.
func (opt *Options) reuse(name string) (string, bool) {
	if opt.CacheDir == "" {
		return "", false
	}
	p := filepath.Join(opt.CacheDir, name)
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	now := time.Now()
	os.Chtimes(p, now, now) // a failure only makes the entry look older
	return p, true
}

// isEntry reports whether a file name in the cache folder is one of the
// entries tune writes (FP32 predictions, calibration logs); other files
// are neither counted nor removed.
func isEntry(name string) bool {
	return strings.HasPrefix(name, "fp32-") && strings.HasSuffix(name, ".csv") ||
		strings.HasPrefix(name, "calib-") && strings.HasSuffix(name, ".log")
}

// staleTemp is the age from which the temporary file of an entry being
// written (atomicfile's ".NAME.tmp-*") is the leftover of a killed run.
const staleTemp = 24 * time.Hour

// isStaleTemp reports whether a cache folder's file is an entry's
// temporary file last written before the staleTemp limit.
func isStaleTemp(name string, mod time.Time) bool {
	base, _, ok := strings.Cut(strings.TrimPrefix(name, "."), ".tmp-")
	return ok && strings.HasPrefix(name, ".") && isEntry(base) && time.Since(mod) > staleTemp
}

// prune removes the cache's oldest entries (by modification time, then
// name) until the entries total at most the cache's limit, leaving those
// named in keep (this run's), and the stale temporary files of killed
// runs. A failure is a warning to note: the run's results do not depend
// on it.
func (opt *Options) prune(keep []string, note func(string)) {
	if opt.CacheDir == "" {
		return
	}
	ents, err := os.ReadDir(opt.CacheDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			note("warning: cache not pruned: " + err.Error())
		}
		return
	}
	type entry struct {
		name string
		size int64
		mod  time.Time
	}
	var all []entry
	var total int64
	remove := func(name string) bool {
		if err := os.Remove(filepath.Join(opt.CacheDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			note("warning: cache: " + err.Error())
			return false
		}
		return true
	}
	stale, staleSize := 0, int64(0)
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		switch {
		case isEntry(e.Name()):
			all = append(all, entry{e.Name(), fi.Size(), fi.ModTime()})
			total += fi.Size()
		case isStaleTemp(e.Name(), fi.ModTime()):
			if remove(e.Name()) {
				stale++
				staleSize += fi.Size()
			}
		}
	}
	if stale > 0 {
		note(fmt.Sprintf("cache: %d temporary file(s) of killed runs removed (%s)", stale, mib(staleSize)))
	}
	slices.SortFunc(all, func(a, b entry) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	max := opt.cacheMax()
	removed, freed := 0, int64(0)
	for _, e := range all {
		if total <= max {
			break
		}
		if !slices.Contains(keep, e.name) && remove(e.name) {
			total -= e.size
			removed++
			freed += e.size
		}
	}
	if removed > 0 {
		what := "entries"
		if removed == 1 {
			what = "entry"
		}
		note(fmt.Sprintf("cache: %d %s removed (%s), least recently used first, to stay within %s", removed, what, mib(freed), mib(max)))
	}
}

// mib writes a size in MiB for notes.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
