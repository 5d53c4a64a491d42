package datasets

import (
	"fmt"
	"math"
	"strings"
)

// shpConverter reads stanfordnlp/SHP (docs/metrics.md, "Training data formats"). In pref mode each
// pair whose score_ratio reaches minRatio becomes {prompt, chosen,
// rejected} with chosen = A when labels is 1, at most maxPerPost pairs per
// post_id (0: no limit). In sft mode each post gives one {prompt,
// response} whose response is its highest-scored comment over all its
// pairs (the first seen on ties); the filters do not apply.
type shpConverter struct {
	sft        bool
	minRatio   float64
	maxPerPost int
	raw        bool
	pairs      map[string]int
	best       map[string]*shpBest
	order      []string
}

type shpBest struct {
	prompt, response string
	score            float64
}

func (c *shpConverter) prompt(history string) string {
	if c.raw {
		return history
	}
	return human + history + assistant
}

func (c *shpConverter) response(s string) string {
	if c.raw {
		return s
	}
	return " " + s
}

func (c *shpConverter) convert(rec record, emit func(any)) (string, string) {
	f, p := strs(rec, "post_id", "history", "human_ref_A", "human_ref_B")
	if p != "" {
		return "", p
	}
	post, history, a, b := f[0], f[1], f[2], f[3]
	label, p := num(rec, "labels")
	if p != "" {
		return "", p
	}
	if label != 0 && label != 1 {
		return "", fmt.Sprintf("field \"labels\" is %v, want 0 or 1", label)
	}
	sa, p := num(rec, "score_A")
	if p != "" {
		return "", p
	}
	sb, p := num(rec, "score_B")
	if p != "" {
		return "", p
	}
	if c.sft {
		cand, score := a, sa
		if sb > sa {
			cand, score = b, sb
		}
		cur, ok := c.best[post]
		if !ok {
			c.best[post] = &shpBest{prompt: c.prompt(history), response: c.response(cand), score: score}
			c.order = append(c.order, post)
		} else if score > cur.score {
			cur.response, cur.score = c.response(cand), score
		}
		return "", ""
	}
	ratio, p := num(rec, "score_ratio")
	if p != "" {
		ratio = math.Inf(1)
		if sa > 0 && sb > 0 {
			ratio = math.Max(sa/sb, sb/sa)
		}
	}
	if ratio < c.minRatio {
		return fmt.Sprintf("score_ratio below %g", c.minRatio), ""
	}
	if c.maxPerPost > 0 && c.pairs[post] >= c.maxPerPost {
		return fmt.Sprintf("more than %d pairs for the post", c.maxPerPost), ""
	}
	c.pairs[post]++
	chosen, rejected := a, b
	if label == 0 {
		chosen, rejected = b, a
	}
	emit(map[string]string{"prompt": c.prompt(history), "chosen": c.response(chosen), "rejected": c.response(rejected)})
	return "", ""
}

func (c *shpConverter) finish(emit func(any)) {
	for _, post := range c.order {
		b := c.best[post]
		emit(map[string]string{"prompt": b.prompt, "response": b.response})
	}
}

// hhConverter reads Anthropic/hh-rlhf (docs/metrics.md, "Training data formats"): the prompt is
// chosen up to and including its last "\n\nAssistant:", the responses are
// what follows in chosen and rejected. A pair whose rejected transcript
// does not start with that prompt is dropped. In sft mode the chosen
// response is the target.
type hhConverter struct{ sft bool }

func (c *hhConverter) convert(rec record, emit func(any)) (string, string) {
	f, p := strs(rec, "chosen", "rejected")
	if p != "" {
		return "", p
	}
	chosen, rejected := f[0], f[1]
	i := strings.LastIndex(chosen, assistant)
	if i < 0 {
		return "", `field "chosen" has no "\n\nAssistant:" turn`
	}
	prompt := chosen[:i+len(assistant)]
	if c.sft {
		emit(map[string]string{"prompt": prompt, "response": chosen[len(prompt):]})
		return "", ""
	}
	if !strings.HasPrefix(rejected, prompt) {
		return "rejected does not share the prompt", ""
	}
	emit(map[string]string{"prompt": prompt, "chosen": chosen[len(prompt):], "rejected": rejected[len(prompt):]})
	return "", ""
}

func (c *hhConverter) finish(func(any)) {}

// limaConverter reads GAIR/lima (docs/metrics.md, "Training data formats"): conversations alternate
// user, assistant, user, … Each assistant turn (only the first with
// turns: first) becomes an SFT example whose prompt renders every earlier
// turn in the HH template; with template: raw the prompt is the user turn
// before it alone.
type limaConverter struct{ raw, first bool }

func (c *limaConverter) convert(rec record, emit func(any)) (string, string) {
	v, ok := rec["conversations"]
	if !ok || v == nil {
		return "", `missing field "conversations"`
	}
	list, ok := v.([]any)
	if !ok {
		return "", `field "conversations" is not a list`
	}
	turns := make([]string, len(list))
	for i, t := range list {
		s, ok := t.(string)
		if !ok {
			return "", fmt.Sprintf("conversations[%d] is not a string", i)
		}
		turns[i] = s
	}
	if len(turns) < 2 {
		return "", "conversations has no assistant turn"
	}
	var b strings.Builder
	for k := 1; k < len(turns); k += 2 {
		b.WriteString(human + turns[k-1] + assistant)
		if c.raw {
			emit(map[string]string{"prompt": turns[k-1], "response": turns[k]})
		} else {
			emit(map[string]string{"prompt": b.String(), "response": " " + turns[k]})
		}
		if c.first {
			break
		}
		b.WriteString(" " + turns[k])
	}
	return "", ""
}

func (c *limaConverter) finish(func(any)) {}

// orcaConverter reads Open-Orca/OpenOrca (docs/metrics.md, "Training data formats"): the Human turn is
// the system prompt (when not empty), a blank line, and the question; the
// response is the target. With template: raw the record is {system,
// prompt, response} and the backend places the system prompt.
type orcaConverter struct{ raw bool }

func (c *orcaConverter) convert(rec record, emit func(any)) (string, string) {
	f, p := strs(rec, "question", "response")
	if p != "" {
		return "", p
	}
	system := ""
	if v, ok := rec["system_prompt"]; ok && v != nil {
		if system, p = str(rec, "system_prompt"); p != "" {
			return "", p
		}
	}
	question, response := f[0], f[1]
	if question == "" {
		return "", `field "question" is empty`
	}
	if c.raw {
		out := map[string]string{"prompt": question, "response": response}
		if system != "" {
			out["system"] = system
		}
		emit(out)
		return "", ""
	}
	turn := question
	if system != "" {
		turn = system + "\n\n" + question
	}
	emit(map[string]string{"prompt": human + turn + assistant, "response": " " + response})
	return "", ""
}

func (c *orcaConverter) finish(func(any)) {}

var (
	_ converter = (*shpConverter)(nil)
	_ converter = (*hhConverter)(nil)
	_ converter = (*limaConverter)(nil)
	_ converter = (*orcaConverter)(nil)
)
