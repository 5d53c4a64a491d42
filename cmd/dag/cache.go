package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

func newCacheCommand(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "cache",
		Short: "Inspect and clean the artifact store",
		Long: `Inspect and clean the artifact store named by --store (a folder or an S3 bucket).

An entry is the result a node recorded under its key: its outputs, who
produced it and when. Blobs are the bytes entries reach: the key's preimage,
each output's manifest and the files it lists.`,
	}
	c.AddCommand(newCacheLsCommand(g), newCacheRmCommand(g), newCacheGCCommand(g),
		newCachePinCommand(g, true), newCachePinCommand(g, false))
	return c
}

// cacheEntry is one entry of `dag cache ls --json`.
type cacheEntry struct {
	Key        digest.Digest            `json:"key"`
	Node       string                   `json:"node"`
	Size       int64                    `json:"size"`
	AgeSeconds int64                    `json:"age_seconds"`
	Finished   time.Time                `json:"finished"`
	Outputs    map[string]digest.Digest `json:"outputs"`
	Refs       []string                 `json:"refs"`
	Pinned     bool                     `json:"pinned"`
	Missing    int                      `json:"missing_blobs"`
	Damaged    bool                     `json:"damaged"`
}

func newCacheLsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List cache entries with node, size and age (newest first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			infos, err := artifacts.ListResults(ctx, s)
			if err != nil {
				return err
			}
			now := time.Now()
			entries := make([]cacheEntry, 0, len(infos))
			for _, i := range infos {
				fin := i.Result.Finished
				var age int64
				if !fin.IsZero() {
					age = int64(now.Sub(fin).Seconds())
				}
				refs := i.Refs
				if refs == nil {
					refs = []string{}
				}
				outs := i.Result.Outputs
				if outs == nil {
					outs = map[string]digest.Digest{}
				}
				entries = append(entries, cacheEntry{
					Key: i.Result.Key, Node: i.Result.Node, Size: i.Size, AgeSeconds: age, Finished: fin,
					Outputs: outs, Refs: refs, Pinned: i.Pinned, Missing: i.Missing, Damaged: i.Damaged,
				})
			}
			if g.json {
				return g.printJSON(map[string]any{"store": g.store, "entries": entries})
			}
			printCacheEntries(g.stdout, entries)
			return nil
		},
	}
}

func printCacheEntries(w io.Writer, entries []cacheEntry) {
	var total int64
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tNODE\tSIZE\tAGE\tNOTES")
	for _, e := range entries {
		total += e.Size
		var notes []string
		if e.Pinned {
			notes = append(notes, "pinned")
		}
		if len(e.Refs) > 0 {
			notes = append(notes, "ref "+strings.Join(e.Refs, ", "))
		}
		if e.Missing > 0 {
			notes = append(notes, fmt.Sprintf("%d blobs missing (a miss)", e.Missing))
		}
		if e.Damaged {
			notes = append(notes, "damaged")
		}
		node := e.Node
		if node == "" {
			node = "-"
		}
		age := "-"
		if !e.Finished.IsZero() {
			age = humanAge(time.Duration(e.AgeSeconds) * time.Second)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", shortDigest(e.Key.String()), node, humanBytes(e.Size), age, strings.Join(notes, "; "))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d entries, %s\n", len(entries), humanBytes(total))
}

func newCacheRmCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm KEY...",
		Short: "Remove cache entries (their blobs go at the next gc)",
		Long: `Remove the entries recorded under each KEY (sha256:<hex> or <hex>), so the
next run of their node executes it again. Their blobs stay until
'dag cache gc' finds them unreachable. A KEY without an entry is an error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			keys, err := parseKeys(args)
			if err != nil {
				return err
			}
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			removed := []digest.Digest{}
			for _, k := range keys {
				if err := artifacts.DeleteResult(ctx, s, k); err != nil {
					if errdefs.IsNotFound(err) {
						return fmt.Errorf("cache rm %s: no such entry: %w", k, err)
					}
					return err
				}
				removed = append(removed, k)
				if !g.json {
					fmt.Fprintf(g.stdout, "removed %s\n", k)
				}
			}
			if g.json {
				return g.printJSON(map[string]any{"removed": removed})
			}
			return nil
		},
	}
}

func newCacheGCCommand(g *globals) *cobra.Command {
	var (
		dryRun bool
		grace  time.Duration
	)
	c := &cobra.Command{
		Use:   "gc",
		Short: "Remove entries and blobs no run needs (reachability, grace period)",
		Long: `Remove what nothing reaches. Roots: every ref (the latest entry of each
study node), every pinned key, and every entry younger than --grace. A root
keeps its entry, its preimage, its output manifests and every file they
list. Unreachable entries are removed first, then unreachable blobs older
than --grace, then staging leftovers older than --grace. --dry-run reports
the same numbers and removes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			rep, err := artifacts.GC(ctx, s, artifacts.WithGrace(grace), artifacts.WithDryRun(dryRun))
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(rep)
			}
			verb := "removed"
			if dryRun {
				verb = "would remove"
			}
			fmt.Fprintf(g.stdout, "%s %d of %d entries, %d of %d blobs and %d staging leftovers: %s freed, %s kept\n",
				verb, len(rep.ResultsRemoved), rep.Results, rep.BlobsRemoved, rep.Blobs, rep.StagingRemoved,
				humanBytes(rep.BytesFreed), humanBytes(rep.BytesKept))
			return nil
		},
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be removed; remove nothing")
	c.Flags().DurationVar(&grace, "grace", artifacts.DefaultGrace, "keep entries and blobs younger than this")
	return c
}

func newCachePinCommand(g *globals, pin bool) *cobra.Command {
	use, short := "pin KEY...", "Keep entries (and what they reach) through every gc"
	if !pin {
		use, short = "unpin KEY...", "Let gc collect pinned entries again"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			keys, err := parseKeys(args)
			if err != nil {
				return err
			}
			s, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if pin {
					err = artifacts.Pin(ctx, s, k)
				} else {
					err = artifacts.Unpin(ctx, s, k)
				}
				if err != nil {
					return err
				}
			}
			if g.json {
				return g.printJSON(map[string]any{"pinned": pin, "keys": keys})
			}
			return nil
		},
	}
}

// parseKeys accepts sha256:<hex> or a bare <hex>.
func parseKeys(args []string) ([]digest.Digest, error) {
	keys := make([]digest.Digest, 0, len(args))
	for _, a := range args {
		d := digest.Digest(a)
		if !strings.Contains(a, ":") {
			d = digest.NewDigestFromEncoded(digest.SHA256, a)
		}
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("key %q: %w: %v", a, errdefs.ErrInvalidArgument, err)
		}
		keys = append(keys, d)
	}
	return keys, nil
}

// humanBytes prints n in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanAge prints d coarsely: 45s, 12m, 5h, 3d.
func humanAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
