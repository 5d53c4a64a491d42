package study

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dagproject/dag/errdefs"
)

// Load reads, decodes and validates a study file. Every problem found is
// returned at once in an *Error (class InvalidArgument); a file that cannot
// be read is NotFound or the I/O error.
func Load(path string) (*Study, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("study %s: %w", path, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("study %s: %w", path, err)
	}
	return Parse(path, data, filepath.Dir(abs))
}

// Parse decodes and validates study bytes. name is used in messages; dir
// is the folder local paths resolve against.
func Parse(name string, data []byte, dir string) (*Study, error) {
	ps := &problems{file: name}
	s := &Study{File: name, Dir: dir, pos: positions{}}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if err == io.EOF {
			ps.add(Pos{}, "", "empty study file")
			return nil, ps.err()
		}
		ps.add(yamlErrorPos(err), "", "%s", yamlErrorText(err))
		return nil, ps.err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		ps.add(Pos{Line: extra.Line, Col: extra.Column}, "", "a study file holds one YAML document")
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	d := &decoder{pos: s.pos, ps: ps}
	d.decodeStruct(doc, reflect.ValueOf(s).Elem(), "")
	if err := ps.err(); err != nil {
		return nil, err
	}
	validate(s, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// Where returns the position of a field path, or of its closest ancestor
// that has one.
func (s *Study) Where(path string) Pos {
	for {
		if p, ok := s.pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return Pos{}
		}
		path = path[:i]
	}
}

// yamlErrorPos extracts "line N" from a yaml.v3 syntax error.
func yamlErrorPos(err error) Pos {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i:], "line %d", &line)
	}
	return Pos{Line: line, Col: 1}
}

func yamlErrorText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		msg = msg[i+2:]
	}
	return "invalid YAML: " + msg
}
