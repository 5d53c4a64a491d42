package artifacts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

var (
	dA = digest.FromString("a")
	dB = digest.FromString("b")
)

func file(p string) artifacts.Entry {
	return artifacts.Entry{Path: p, Digest: dA, Size: 1, Mode: 0o644}
}

func link(p, target string) artifacts.Entry {
	return artifacts.Entry{Path: p, Mode: 0o777, Link: target}
}

func manifest(entries ...artifacts.Entry) artifacts.Manifest {
	return artifacts.Manifest{MediaType: artifacts.ManifestMediaType, Entries: entries}
}

func TestManifestValidate(t *testing.T) {
	exec := file("run")
	exec.Mode = 0o755
	valid := map[string]artifacts.Manifest{
		"empty":           manifest(),
		"files":           manifest(file("a"), file("b/c"), file("b/d/e")),
		"dot before dir":  manifest(file("a.txt"), file("a/b")), // byte order: '.' < '/'
		"exec":            manifest(exec),
		"empty file":      manifest(artifacts.Entry{Path: "e", Digest: digest.FromString(""), Mode: 0o644}),
		"link sibling":    manifest(file("a"), link("l", "a")),
		"link up":         manifest(file("a"), link("d/l", "../a")),
		"link to folder":  manifest(file("d/x"), link("l", "d")),
		"link to self":    manifest(link("d/l", ".")),
		"link to root":    manifest(link("d/l", "..")),
		"dangling inside": manifest(link("l", "nothing/there")),
		"dotted names":    manifest(file("..a"), file(".hidden"), file("a..")),
	}
	for name, m := range valid {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: Validate = %v, want nil", name, err)
		}
	}
	badMode := file("a")
	badMode.Mode = 0o600
	linkMode := file("a")
	linkMode.Mode = 0o777
	negSize := file("a")
	negSize.Size = -1
	badDigest := file("a")
	badDigest.Digest = "sha256:nothex"
	noDigest := file("a")
	noDigest.Digest = ""
	linkDigest := link("l", "a")
	linkDigest.Digest = dB
	linkSize := link("l", "a")
	linkSize.Size = 3
	linkFileMode := link("l", "a")
	linkFileMode.Mode = 0o644
	invalid := map[string]artifacts.Manifest{
		"zero":                {},
		"media type":          {MediaType: "application/json"},
		"absolute":            manifest(file("/a")),
		"dotdot":              manifest(file("..")),
		"climbs":              manifest(file("../a")),
		"unclean dotdot":      manifest(file("a/../b")),
		"unclean slashes":     manifest(file("a//b")),
		"unclean dot":         manifest(file("./a")),
		"trailing slash":      manifest(file("a/")),
		"dot":                 manifest(file(".")),
		"empty path":          manifest(file("")),
		"not utf-8":           manifest(file("a\xff")),
		"nul":                 manifest(file("a\x00b")),
		"duplicate":           manifest(file("a"), file("a")),
		"unsorted":            manifest(file("b"), file("a")),
		"unsorted dot":        manifest(file("a/b"), file("a.txt")),
		"file mode":           manifest(badMode),
		"file mode 0777":      manifest(linkMode),
		"negative size":       manifest(negSize),
		"bad digest":          manifest(badDigest),
		"no digest":           manifest(noDigest),
		"link with digest":    manifest(linkDigest),
		"link with size":      manifest(linkSize),
		"link mode":           manifest(linkFileMode),
		"link absolute":       manifest(link("l", "/etc/passwd")),
		"link escapes":        manifest(link("l", "../x")),
		"link escapes deep":   manifest(link("d/e/l", "../../../x")),
		"link to parent":      manifest(link("l", "..")),
		"link unclean":        manifest(link("l", "./a")),
		"link unclean hidden": manifest(link("c", "."), link("l", "c/../x")),
		"link not utf-8":      manifest(link("l", "\xff")),
		"under link":          manifest(link("l", "d"), file("l/x")),
		"under link deep":     manifest(link("l", "d"), file("l/x/y")),
		"under file":          manifest(file("f"), file("f/x")),
	}
	for name, m := range invalid {
		if err := m.Validate(); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: Validate = %v, want InvalidArgument", name, err)
		}
	}
}

// The encoding is the folder's identity: it must never change silently.
func TestManifestEncodeGolden(t *testing.T) {
	m := manifest(
		artifacts.Entry{Path: "a b.txt", Digest: dA, Size: 1, Mode: 0o644},
		artifacts.Entry{Path: "bin/<run>", Digest: dB, Size: 2, Mode: 0o755},
		link("l", "a b.txt"),
	)
	want := `{"mediaType":"application/vnd.dag.manifest.v1+json","entries":[` +
		`{"path":"a b.txt","digest":"` + dA.String() + `","size":1,"mode":420},` +
		`{"path":"bin/\u003crun\u003e","digest":"` + dB.String() + `","size":2,"mode":493},` +
		`{"path":"l","size":0,"mode":511,"link":"a b.txt"}]}`
	if got := string(m.Encode()); got != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", got, want)
	}
	if m.Digest() != digest.FromString(want) {
		t.Fatal("Digest is not the digest of Encode")
	}
	if got := string(manifest().Encode()); got != `{"mediaType":"application/vnd.dag.manifest.v1+json","entries":[]}` {
		t.Fatalf("empty manifest encodes as %s", got)
	}
	if string(artifacts.Manifest{MediaType: artifacts.ManifestMediaType, Entries: []artifacts.Entry{}}.Encode()) != string(manifest().Encode()) {
		t.Fatal("nil and empty Entries encode differently")
	}
}

func TestReadManifest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	m := manifest(file("a"), link("l", "a"))
	d := manifestBlob(t, s, m.Encode())
	if d != m.Digest() {
		t.Fatalf("stored digest %s, Digest %s", d, m.Digest())
	}
	got, err := artifacts.ReadManifest(ctx, s, d)
	noErr(t, err)
	if string(got.Encode()) != string(m.Encode()) {
		t.Fatalf("ReadManifest = %+v, want %+v", got, m)
	}

	enc := string(m.Encode())
	for name, raw := range map[string]string{
		"not json":      "hello",
		"indented":      strings.Replace(enc, `"entries":`, `"entries": `, 1),
		"unknown field": strings.Replace(enc, `{"mediaType"`, `{"extra":1,"mediaType"`, 1),
		"trailing":      enc + "{}",
		"invalid":       string(manifest(file("../evil")).Encode()),
		"null entries":  `{"mediaType":"application/vnd.dag.manifest.v1+json","entries":null}`,
	} {
		_, err := artifacts.ReadManifest(ctx, s, manifestBlob(t, s, []byte(raw)))
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: ReadManifest = %v, want InvalidArgument", name, err)
		}
	}
	_, err = artifacts.ReadManifest(ctx, s, digest.FromString("absent"))
	wantErr(t, err, errdefs.IsNotFound, "NotFound")
}
