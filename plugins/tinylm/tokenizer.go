package tinylm

import "encoding/json"

// The byte-level vocabulary: token i < 256 is byte i; then BOS and EOS.
const (
	// BOS starts a sequence (and stands for the context of a bos_context
	// Score request).
	BOS = 256
	// EOS ends an SFT or DPO response; it is also the context of a Score
	// request with an empty context (lm-evaluation-harness v0.4.2 uses the
	// end-of-text token there).
	EOS = 257
	// VocabSize is the number of tokens.
	VocabSize = 258
)

// encode returns the bytes of s as tokens.
func encode(s string) []int32 {
	out := make([]int32, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = int32(s[i])
	}
	return out
}

// tokenizerDesc is the content of tokenizer.json: a description, since
// there is nothing to learn.
type tokenizerDesc struct {
	Type      string `json:"type"`
	VocabSize int    `json:"vocab_size"`
	BOS       int    `json:"bos_id"`
	EOS       int    `json:"eos_id"`
	Note      string `json:"note"`
}

func tokenizerJSON() []byte {
	b, err := json.MarshalIndent(tokenizerDesc{
		Type:      "bytes",
		VocabSize: VocabSize,
		BOS:       BOS,
		EOS:       EOS,
		Note:      "token i < 256 is the UTF-8 byte i; 256 is BOS, 257 is EOS",
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}
