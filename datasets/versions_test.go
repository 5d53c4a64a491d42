package datasets

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/internal/versiontest"
	"github.com/dagproject/dag/study"
)

// adapterCases are the option sets each adapter's golden output covers,
// on testdata/golden/<adapter>.jsonl.
var adapterCases = map[string][]map[string]any{
	"shp":      {nil, {"mode": "sft"}, {"score_ratio": 1.5, "max_pairs_per_post": 1, "template": "raw"}},
	"hh-rlhf":  {nil, {"mode": "sft"}},
	"lima":     {nil, {"template": "raw", "turns": "first"}},
	"openorca": {nil, {"template": "raw"}},
}

// goldenOutput prepares a data node and returns its output folder: each
// file's name, mode, size and bytes, in order.
func goldenOutput(t *testing.T, s artifacts.Store, n *study.Node) []byte {
	t.Helper()
	out, err := prep(t, s, n)
	if err != nil {
		t.Fatalf("%s: %v", n.Source.URI, err)
	}
	ctx := context.Background()
	m, err := artifacts.ReadManifest(ctx, s, out[study.OutData])
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, e := range m.Entries {
		data, err := artifacts.ReadAll(ctx, s, e.Digest, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %o %d\n", e.Path, e.Mode, e.Size)
		b.Write(data)
	}
	return b.Bytes()
}

// TestVersions pins every adapter's output on its golden file, and the
// preparation's own (formats, gzip, sampling, skip_bad), to their
// versions.
func TestVersions(t *testing.T) {
	s := newStore(t)
	for _, name := range Adapters() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", name+".jsonl")
			cases := adapterCases[name]
			if cases == nil {
				cases = []map[string]any{nil}
			}
			var out bytes.Buffer
			for _, opts := range cases {
				n := dataNode(path, "jsonl", name)
				if opts != nil {
					n.Params["options"] = opts
				}
				out.Write(goldenOutput(t, s, n))
			}
			versiontest.Check(t, "datasets.adapter/"+name, AdapterVersion(name), "adapterVersions in datasets/versions.go", out.Bytes())
		})
	}
	t.Run("prepare", func(t *testing.T) {
		dir := t.TempDir()
		var out bytes.Buffer
		add := func(n *study.Node) { out.Write(goldenOutput(t, s, n)) }

		add(dataNode(filepath.Join("testdata", "golden", "arc.jsonl"), "jsonl", "")) // passed through
		add(dataNode(writeFile(t, filepath.Join(dir, "a.json"), `[{"prompt": "p", "response": "r"}, {"prompt": "q", "response": "s"}]`), "json", "sft-jsonl"))
		add(dataNode(writeFile(t, filepath.Join(dir, "c.txt"), "a corpus\nof two lines\n"), "text", "text"))

		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		src, err := os.ReadFile(filepath.Join("testdata", "golden", "hh-rlhf.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(src)
		zw.Close()
		add(dataNode(writeFile(t, filepath.Join(dir, "hh.jsonl.gz"), gz.String()), "jsonl", "hh-rlhf"))

		type sftRow struct {
			Prompt   string `parquet:"prompt"`
			Response string `parquet:"response"`
		}
		pq := parquetOf(t, []sftRow{{"one?", "1"}, {"two?", "2"}, {"three?", "3"}})
		add(dataNode(writeFile(t, filepath.Join(dir, "rows.parquet"), string(pq)), "parquet", "sft-jsonl"))

		sampled := dataNode(filepath.Join("testdata", "golden", "shp.jsonl"), "jsonl", "shp")
		sampled.Params["sample"] = map[string]any{"n": int64(4), "seed": int64(3)}
		add(sampled)

		bad := dataNode(writeFile(t, filepath.Join(dir, "bad.jsonl"), "{\"prompt\": \"p\", \"response\": \"r\"}\n{\"prompt\": 3}\nnot json\n"), "jsonl", "sft-jsonl")
		bad.Params["options"] = map[string]any{"skip_bad": true}
		add(bad)
		versiontest.Check(t, "datasets", Version, "Version in datasets/versions.go", out.Bytes())
	})
}

// TestEveryAdapterIsVersioned checks that every adapter a study may name
// has a version.
func TestEveryAdapterIsVersioned(t *testing.T) {
	for _, adapter := range study.Adapters {
		if adapter != "text" && AdapterVersion(adapter) == "" {
			t.Errorf("adapter %s has no version in adapterVersions", adapter)
		}
	}
	for adapter := range schemas {
		if AdapterVersion(adapter) == "" {
			t.Errorf("adapter %s has no version in adapterVersions", adapter)
		}
	}
	for _, a := range Adapters() {
		if _, err := newConverter(a, nil); err != nil {
			t.Errorf("adapterVersions names %s, which newConverter does not know: %v", a, err)
		}
	}
}
