// Package datasets executes data nodes: it checks a source's bytes against
// its declared format and stores them as the node's output folder, so every
// file a stage reads enters the store through a data node.
package datasets
