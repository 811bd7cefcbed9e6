package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxPixels bounds the size an image header may claim (an 8192×8192
// photograph), so a corrupt or hostile header cannot ask for gigabytes.
const maxPixels = 1 << 26

func isJPEG(b []byte) bool { return len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff }
func isPNG(b []byte) bool  { return len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n" }
func isImage(b []byte) bool {
	return isJPEG(b) || isPNG(b)
}

func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return !strings.HasPrefix(name, ".")
	}
	return false
}

// decodeImage decodes JPEG or PNG bytes into ex as uint8 H×W×C, C = 1 for
// grayscale images and 3 otherwise (alpha is dropped, as TF's
// decode_png(channels=3) does).
func decodeImage(data []byte, ex *example) error {
	var decode func(io.Reader) (image.Image, error)
	var config func(io.Reader) (image.Config, error)
	switch {
	case isJPEG(data):
		decode, config = jpeg.Decode, jpeg.DecodeConfig
	case isPNG(data):
		decode, config = png.Decode, png.DecodeConfig
	default:
		n := min(len(data), 4)
		return fmt.Errorf("not a JPEG or PNG image (starts % x)", data[:n])
	}
	cfg, err := config(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/cfg.Height {
		return fmt.Errorf("image size %d×%d out of range", cfg.Width, cfg.Height)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	toHWC(img, ex)
	return nil
}

// toHWC copies img into ex.u8 as interleaved uint8 channels.
func toHWC(img image.Image, ex *example) {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	c := 3
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		c = 1
	}
	ex.h, ex.w, ex.c, ex.float = h, w, c, false
	if cap(ex.u8) < h*w*c {
		ex.u8 = make([]uint8, h*w*c)
	}
	px := ex.u8[:h*w*c]
	ex.u8 = px
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			copy(px[y*w:(y+1)*w], m.Pix[y*m.Stride:])
		}
	case *image.YCbCr:
		ycbcrToRGB(px, m)
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride:]
			out := px[y*w*3 : (y+1)*w*3]
			for x := range w {
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	default:
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if c == 1 {
					px[i] = color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
					i++
					continue
				}
				n := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				px[i], px[i+1], px[i+2] = n.R, n.G, n.B
				i += 3
			}
		}
	}
}

// ycbcrToRGB converts a decoded JPEG's planes to interleaved RGB with
// JFIF's full-range BT.601 formulas as the standard library's
// color.YCbCrToRGB evaluates them (jfifRGB; TestJFIFRGB checks all 2²⁴
// inputs against it), a row at a time: calling it per pixel, with the
// subsampling switch inside the pixel loop, cost a sixth of decoding a
// photograph.
func ycbcrToRGB(px []uint8, m *image.YCbCr) {
	b := m.Bounds()
	w := b.Dx()
	if w == 0 {
		return
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		yrow := m.Y[(y-b.Min.Y)*m.YStride:][:w]
		out := px[(y-b.Min.Y)*w*3:][:w*3]
		ci0 := m.COffset(b.Min.X, y)
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
			cb, cr := m.Cb[ci0:][:w], m.Cr[ci0:][:w]
			for x, yv := range yrow {
				rc, gc, bc := jfifChroma(cb[x], cr[x])
				o := out[3*x : 3*x+3]
				o[0], o[1], o[2] = jfifPixel(yv, rc, gc, bc)
			}
		case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
			// Pixel x's chroma sample is (x + Min.X)/2 − Min.X/2 along the row.
			mx := b.Min.X
			n := (w-1+mx)/2 - mx/2 + 1
			cbRow, crRow := m.Cb[ci0:][:n], m.Cr[ci0:][:n]
			var rc, gc, bc int32
			for x, yv := range yrow {
				c := (x+mx)/2 - mx/2
				if x == 0 || c != (x-1+mx)/2-mx/2 {
					rc, gc, bc = jfifChroma(cbRow[c], crRow[c]) // a new chroma sample
				}
				o := out[3*x : 3*x+3]
				o[0], o[1], o[2] = jfifPixel(yv, rc, gc, bc)
			}
		default:
			for x, yv := range yrow {
				ci := m.COffset(x+b.Min.X, y)
				o := out[3*x : 3*x+3]
				o[0], o[1], o[2] = jfifRGB(yv, m.Cb[ci], m.Cr[ci])
			}
		}
	}
}

// jfifRGB is JFIF's YCbCr → RGB: R = Y + 1.402·(Cr−128),
// G = Y − 0.344136·(Cb−128) − 0.714136·(Cr−128), B = Y + 1.772·(Cb−128),
// in 16.16 fixed point with the coefficients rounded to 91881, 22554,
// 46802 and 116130 and Y scaled by 0x10101 (so that 255 stays 255), each
// result clamped to 0…255: the values color.YCbCrToRGB gives, small
// enough to inline.
func jfifRGB(y, cb, cr uint8) (r, g, b uint8) {
	rc, gc, bc := jfifChroma(cb, cr)
	return jfifPixel(y, rc, gc, bc)
}

// jfifChroma is the chroma terms of jfifRGB, which pixels sharing a
// chroma sample share.
func jfifChroma(cb, cr uint8) (rc, gc, bc int32) {
	cb1, cr1 := int32(cb)-128, int32(cr)-128
	return 91881 * cr1, -22554*cb1 - 46802*cr1, 116130 * cb1
}

// jfifPixel is jfifRGB from Y and jfifChroma's terms (integer sums: the
// grouping changes nothing).
func jfifPixel(y uint8, rc, gc, bc int32) (r, g, b uint8) {
	yy := int32(y) * 0x10101
	return clampFixed(yy + rc), clampFixed(yy + gc), clampFixed(yy + bc)
}

// clampFixed is the integer part of the 16.16 value v clamped to 0…255.
func clampFixed(v int32) uint8 { return uint8(min(max(v>>16, 0), 255)) }

// imageFile is one example of an image folder.
type imageFile struct {
	path  string
	id    string
	label int
}

// imageReader streams a list of image files, decoding one at a time.
type imageReader struct {
	files []imageFile
	i     int
	data  []byte
}

// openImages lists the images of a folder (or the image files given) and
// their labels: from a CSV labels file, from sorted subfolders, or none.
func openImages(path string, files []string, labels, column string) (reader, error) {
	var list []imageFile
	if files != nil {
		for _, f := range files {
			list = append(list, imageFile{path: f, id: filepath.Base(f), label: -1})
		}
	} else {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		var classes []string
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				classes = append(classes, e.Name())
			} else if isImageName(e.Name()) {
				list = append(list, imageFile{path: filepath.Join(path, e.Name()), id: e.Name(), label: -1})
			}
		}
		if labels == "" && len(classes) > 0 {
			// One subfolder a class, labelled by its index in sorted order
			// (os.ReadDir sorts by name), as Keras' image_dataset_from_directory does.
			list = list[:0]
			for k, class := range classes {
				sub, err := os.ReadDir(filepath.Join(path, class))
				if err != nil {
					return nil, err
				}
				for _, e := range sub {
					if !e.IsDir() && isImageName(e.Name()) {
						list = append(list, imageFile{path: filepath.Join(path, class, e.Name()), id: class + "/" + e.Name(), label: k})
					}
				}
			}
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: no PNG or JPEG images", path)
	}
	if labels != "" {
		m, err := readLabelsCSV(labels, column)
		if err != nil {
			return nil, err
		}
		for i := range list {
			l, ok := m[list[i].id]
			if !ok {
				l, ok = m[filepath.Base(list[i].path)]
			}
			if !ok {
				return nil, fmt.Errorf("%s: %s has no label in %s", path, list[i].id, labels)
			}
			list[i].label = l
		}
	}
	return &imageReader{files: list}, nil
}

// readLabelsCSV reads a CSV file of file name → integer label. The label
// column is the header column named column; without one, "label", else
// "class_index", else the second column. The file column is "file",
// "filename" or "image", else the first.
func readLabelsCSV(file, column string) (map[string]int, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	first, err := r.Read()
	if err == io.EOF {
		return nil, fileErr(file, "empty labels file")
	}
	if err != nil {
		return nil, fileErr(file, "%w", err)
	}
	fileCol, labelCol, header := 0, 1, false
	find := func(names ...string) int {
		for _, n := range names {
			for i, h := range first {
				if strings.EqualFold(strings.TrimSpace(h), n) {
					return i
				}
			}
		}
		return -1
	}
	if column != "" {
		if labelCol = find(column); labelCol < 0 {
			return nil, fileErr(file, "no column %q in the header %q", column, strings.Join(first, ","))
		}
		header = true
	} else if i := find("label", "class_index"); i >= 0 {
		labelCol, header = i, true
	} else if len(first) > 1 {
		if _, err := strconv.Atoi(strings.TrimSpace(first[1])); err != nil {
			header = true
		}
	}
	if header {
		if i := find("file", "filename", "image"); i >= 0 {
			fileCol = i
		}
	}
	m := make(map[string]int)
	add := func(rec []string) error {
		line, _ := r.FieldPos(0)
		if len(rec) <= max(fileCol, labelCol) {
			return fmt.Errorf("%s:%d: %d fields, want at least %d", file, line, len(rec), max(fileCol, labelCol)+1)
		}
		l, err := strconv.Atoi(strings.TrimSpace(rec[labelCol]))
		if err != nil || l < 0 {
			return fmt.Errorf("%s:%d: label %q is not a non-negative integer", file, line, rec[labelCol])
		}
		name := strings.TrimSpace(rec[fileCol])
		if _, dup := m[name]; dup {
			return fmt.Errorf("%s:%d: %s labelled twice", file, line, name)
		}
		m[name] = l
		return nil
	}
	if !header {
		if err := add(first); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := add(rec); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (r *imageReader) next(ex *example, decode bool) error {
	raw := rawExample{data: r.data}
	if err := r.read(&raw, decode); err != nil || !decode {
		return err
	}
	r.data = raw.data
	return raw.decode(ex)
}

// readFileInto reads a whole (image) file, reusing buf.
func readFileInto(buf []byte, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return buf, err
	}
	if fi.Size() > 1<<30 {
		return buf, errors.New("image file over 1 GiB")
	}
	n := int(fi.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(f, buf); err != nil {
		return buf, truncated(err)
	}
	return buf, nil
}

func (r *imageReader) fetch(rec *rawExample, take bool) error {
	*rec = rawExample{}
	return r.read(rec, take)
}

// read passes over the next image, or reads its file into rec's data
// (reusing that buffer) and fills in its facts when take is set.
func (r *imageReader) read(rec *rawExample, take bool) error {
	if r.i >= len(r.files) {
		return io.EOF
	}
	f := r.files[r.i]
	i := r.i
	r.i++
	if !take {
		return nil
	}
	data, err := readFileInto(rec.data, f.path)
	if err != nil {
		return &Error{File: f.path, Record: i, Err: err}
	}
	*rec = rawExample{data: data, label: f.label, id: f.id, file: f.path, rec: i}
	return nil
}

func (r *imageReader) close() error { return nil }
