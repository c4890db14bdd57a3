"""Distil the packaged MiniLM into a model2vec static model (run in bench/out/.venv-m2v, see
bench_embeddings.py --distill). Writes OUT/ (model2vec layout) and OUT/reference.json (vectors of a few
texts from model2vec's own encode, to check artifactlens' loader against)."""
import json
import sys

from model2vec.distill import distill

model_dir, out = sys.argv[1], sys.argv[2]
m = distill(model_name=model_dir, pca_dims=None)  # keep 384 dimensions: a drop-in for MiniLM vectors
m.save_pretrained(out)
texts = ["Write a poem about the sea.", "Summarise this text in one sentence!", "", "naïve café ☃ 123"]
json.dump({"texts": texts, "vectors": m.encode(texts).tolist()}, open(f"{out}/reference.json", "w"))
print("distilled", m.embedding.shape)
