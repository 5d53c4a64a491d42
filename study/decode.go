package study

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder turns a YAML node tree into spec structs strictly: unknown keys,
// duplicate keys and wrong types are problems, all collected in one pass,
// each with its line, column and field path.
type decoder struct {
	pos positions
	ps  *problems
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// kindName names a node's YAML type for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!null":
			return "null"
		default:
			return fmt.Sprintf("%s %s", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
		}
	}
	return "an unsupported YAML node"
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.pos[path] = nodePos(n)
	isNull := n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
	switch v.Kind() {
	case reflect.Pointer:
		if isNull {
			return
		}
		nv := reflect.New(v.Type().Elem())
		d.decode(n, nv.Elem(), path)
		v.Set(nv)
	case reflect.Struct:
		if isNull {
			return
		}
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if isNull {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.ps.add(nodePos(n), path, "expected a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map, reflect.Interface:
		if v.Kind() == reflect.Map && isNull {
			return
		}
		val, ok := d.freeForm(n, path)
		if !ok {
			return
		}
		if v.Kind() == reflect.Map {
			m, isMap := val.(map[string]any)
			if !isMap {
				d.ps.add(nodePos(n), path, "expected a mapping, got %s", kindName(n))
				return
			}
			v.Set(reflect.ValueOf(m))
			return
		}
		if val != nil {
			v.Set(reflect.ValueOf(val))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.ps.add(nodePos(n), path, "expected a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.ps.add(nodePos(n), path, "expected an integer, got %s", kindName(n))
			return
		}
		var i int
		if err := n.Decode(&i); err != nil {
			d.ps.add(nodePos(n), path, "expected an integer: %v", err)
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.ps.add(nodePos(n), path, "expected true or false, got %s", kindName(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	default:
		panic("study: cannot decode into " + v.Type().String())
	}
}

type fieldInfo struct {
	index int
	keyed bool
}

// fieldsOf maps YAML names to struct fields; the ",key" field receives a
// keyed element's mapping key.
func fieldsOf(t reflect.Type) (fields map[string]fieldInfo, keyField int) {
	fields = map[string]fieldInfo{}
	keyField = -1
	for i := 0; i < t.NumField(); i++ {
		tag, ok := t.Field(i).Tag.Lookup("yaml")
		if !ok || tag == "-" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		if opt == "key" {
			keyField = i
			continue
		}
		fields[name] = fieldInfo{index: i, keyed: opt == "keyed"}
	}
	return fields, keyField
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.ps.add(nodePos(n), path, "expected a mapping, got %s", kindName(n))
		return
	}
	fields, _ := fieldsOf(v.Type())
	seen := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		if first, dup := seen[key]; dup {
			d.ps.add(nodePos(k), joinPath(path, key), "duplicate key (first defined at line %d)", first.Line)
			continue
		}
		seen[key] = nodePos(k)
		f, ok := fields[key]
		if !ok {
			d.ps.add(nodePos(k), path, "unknown field %q (known: %s)", key, strings.Join(sortedKeys(fields), ", "))
			continue
		}
		if f.keyed {
			d.decodeKeyed(val, v.Field(f.index), joinPath(path, key))
			continue
		}
		d.decode(val, v.Field(f.index), joinPath(path, key))
	}
}

// decodeKeyed decodes a mapping of name -> struct into a slice of structs,
// keeping the declared order and rejecting duplicate names.
func (d *decoder) decodeKeyed(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.pos[path] = nodePos(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.ps.add(nodePos(n), path, "expected a mapping of names, got %s", kindName(n))
		return
	}
	elem := v.Type().Elem()
	_, keyField := fieldsOf(elem)
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content)/2)
	seen := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.ps.add(nodePos(k), p, "duplicate name %q (first defined at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = nodePos(k)
		e := reflect.New(elem).Elem()
		e.Field(keyField).SetString(k.Value)
		d.pos[p+"#name"] = nodePos(k)
		d.decode(val, e, p)
		s = reflect.Append(s, e)
	}
	v.Set(s)
}

// freeForm converts a node to plain Go values: nil, bool, int64, float64,
// string, []any and map[string]any.
func (d *decoder) freeForm(n *yaml.Node, path string) (any, bool) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.pos[path] = nodePos(n)
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				d.ps.add(nodePos(n), path, "bad boolean: %v", err)
				return nil, false
			}
			return b, true
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				d.ps.add(nodePos(n), path, "integer out of range: %s", n.Value)
				return nil, false
			}
			return i, true
		case "!!float":
			f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil {
				var yf float64
				if n.Decode(&yf) != nil {
					d.ps.add(nodePos(n), path, "bad number %q", n.Value)
					return nil, false
				}
				f = yf
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				d.ps.add(nodePos(n), path, "numbers must be finite, got %s", n.Value)
				return nil, false
			}
			return f, true
		case "!!str":
			return n.Value, true
		default:
			d.ps.add(nodePos(n), path, "unsupported YAML type %s", n.ShortTag())
			return nil, false
		}
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, good := d.freeForm(c, fmt.Sprintf("%s[%d]", path, i))
			ok = ok && good
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		ok := true
		seen := map[string]Pos{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				d.ps.add(nodePos(k), path, "mapping keys must be strings")
				ok = false
				continue
			}
			if first, dup := seen[k.Value]; dup {
				d.ps.add(nodePos(k), joinPath(path, k.Value), "duplicate key (first defined at line %d)", first.Line)
				ok = false
				continue
			}
			seen[k.Value] = nodePos(k)
			v, good := d.freeForm(val, joinPath(path, k.Value))
			ok = ok && good
			out[k.Value] = v
		}
		return out, ok
	}
	d.ps.add(nodePos(n), path, "unsupported YAML node")
	return nil, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
