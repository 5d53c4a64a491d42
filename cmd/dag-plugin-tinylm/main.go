// Command dag-plugin-tinylm serves the tinylm backend as a dag plugin.
package main

import (
	"github.com/dagproject/dag/plugins/sdk"
	"github.com/dagproject/dag/plugins/tinylm"
)

func main() { sdk.Serve(tinylm.New()) }
