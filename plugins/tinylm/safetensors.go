package tinylm

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/dagproject/dag/errdefs"
)

// Weights are named float32 tensors. Files hold them in the safetensors
// format (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header mapping each name to
// {"dtype":"F32","shape":[...],"data_offsets":[begin,end]} with keys in
// sorted order and padded with spaces to a multiple of 8 bytes, then the
// tensors' little-endian float32 data in the same sorted order. Equal
// weights give byte-identical files.
type Weights map[string]*Tensor

// Tensor is a dense row-major float32 array.
type Tensor struct {
	Shape []int
	Data  []float32
}

// newTensor returns a zero tensor of the given shape.
func newTensor(shape ...int) *Tensor {
	return &Tensor{Shape: slices.Clone(shape), Data: make([]float32, numel(shape))}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func (t *Tensor) clone() *Tensor {
	return &Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// names returns w's names, sorted.
func (w Weights) names() []string {
	out := make([]string, 0, len(w))
	for k := range w {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type stEntry struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// writeSafetensors writes w to path (created or truncated).
func writeSafetensors(path string, w Weights) error {
	header := map[string]stEntry{}
	off := 0
	names := w.names()
	for _, n := range names {
		t := w[n]
		if len(t.Data) != numel(t.Shape) {
			return fmt.Errorf("weights %s: tensor %s: %d values for shape %v", path, n, len(t.Data), t.Shape)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[n] = stEntry{DType: "F32", Shape: shape, DataOffsets: [2]int{off, off + 4*len(t.Data)}}
		off += 4 * len(t.Data)
	}
	hb, err := json.Marshal(header) // map keys come out sorted
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(len(hb)))
	bw.Write(buf[:])
	bw.Write(hb)
	for _, n := range names {
		for _, v := range w[n].Data {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
			bw.Write(buf[:4])
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readSafetensors reads a file written by writeSafetensors (any
// safetensors file of F32 tensors). A missing file is NotFound; a
// malformed one is DataLoss.
func readSafetensors(path string) (Weights, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("weights %s: %w", path, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("weights %s: "+format+": %w", append(append([]any{path}, a...), errdefs.ErrDataLoss)...)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var buf [8]byte
	if _, err := io.ReadFull(br, buf[:]); err != nil {
		return nil, corrupt("header length: %v", err)
	}
	hlen := binary.LittleEndian.Uint64(buf[:])
	if hlen > 100<<20 {
		return nil, corrupt("header of %d bytes", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, corrupt("header: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, corrupt("header: %v", err)
	}
	type item struct {
		name string
		e    stEntry
	}
	var items []item
	for n, r := range raw {
		if n == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, corrupt("tensor %s: %v", n, err)
		}
		if e.DType != "F32" {
			return nil, corrupt("tensor %s: dtype %s, only F32 is read", n, e.DType)
		}
		if e.DataOffsets[1]-e.DataOffsets[0] != 4*numel(e.Shape) || e.DataOffsets[0] < 0 {
			return nil, corrupt("tensor %s: offsets %v for shape %v", n, e.DataOffsets, e.Shape)
		}
		items = append(items, item{n, e})
	}
	slices.SortFunc(items, func(a, b item) int { return a.e.DataOffsets[0] - b.e.DataOffsets[0] })
	w := Weights{}
	pos := 0
	for _, it := range items {
		if it.e.DataOffsets[0] < pos {
			return nil, corrupt("tensor %s overlaps another", it.name)
		}
		if _, err := br.Discard(it.e.DataOffsets[0] - pos); err != nil {
			return nil, corrupt("tensor %s: %v", it.name, err)
		}
		t := newTensor(it.e.Shape...)
		raw := make([]byte, 4*len(t.Data))
		if _, err := io.ReadFull(br, raw); err != nil {
			return nil, corrupt("tensor %s: %v", it.name, err)
		}
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		w[it.name] = t
		pos = it.e.DataOffsets[1]
	}
	return w, nil
}
