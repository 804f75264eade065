#!/usr/bin/env python3
"""Runs the text report of every shared model at COLUMNS=80, in both modes,
and checks that no line of it is wider than 80 columns.

Usage: check_widths.py VRAM_OPT MODELS_DIR [WIDTH]

The models are read in place. Each model runs with the bindings its test in
test/Models uses (or --default-dim 2 where it has none, or where any binding
runs); a model in MODELS_DIR that is not in the table below is reported as
"unlisted", so a new model is not skipped unseen. Prints one line per run:
  MODEL MODE: ok, N lines, widest W
  MODEL MODE: WIDE line K (W columns): TEXT
  MODEL MODE: FAILED (exit C): first line of stderr
and a summary line "checked R runs, F wide, E failed, U unlisted".
"""
import os
import subprocess
import sys

# model -> arguments (the bindings of test/Models/<model>.test)
MODELS = {
    "bert_mlm_e2e_ort_training_frag.onnx": ["--default-dim", "2"],
    "bert_squad_pt13_opset10.onnx": ["--dim", "batch_size=2", "--dim", "max_seq_len=16"],
    "bloom_3layer_ortmodule_training.onnx": [
        "--dim", "inputs_input_ids_dim0=2", "--dim", "inputs_attention_mask_dim0=2",
        "--dim", "inputs_attention_mask_dim1=16", "--dim", "inputs_labels_dim0=2",
        "--dim", "inputs_labels_dim1=16"],
    "custom_ops_local_functions_fp8.onnx": ["--default-dim", "2"],
    "decoder_opset24_attention_rmsnorm_rotary_mobius.onnx": [
        "--dim", "batch=2", "--dim", "sequence_len=16"],
    "distilbert_tiny_hf_pt110.onnx": ["--dim", "batch=2", "--dim", "sequence=16"],
    "gpt2_attention_opt_skipln_exprdim.onnx": ["--default-dim", "2"],
    "gpt2_past_mask_one_layer_pt15.onnx": [
        "--dim", "batch_size=2", "--dim", "past_seq_len=0", "--dim", "seq_len=8",
        "--dim", "past_seq_len+seq_len=8"],
    "gpt2_pt13_opset11_nopast.onnx": ["--dim", "batch_size=2", "--dim", "seq_len=8"],
    "gpt2_tiny_random_ort_fused_past.onnx": [
        "--dim", "batch_size=2", "--dim", "seq_len=16", "--dim", "past_seq_len=8",
        "--dim", "total_seq_len=24"],
    "gpt2_tiny_sampling.onnx": ["--default-dim", "2"],
    "lfm2_tiny_random_genai_decoder.onnx": ["--default-dim", "2"],
    "llama2_dort_dynamo_pt24_bwd.onnx": [],
    "llama7b_layer_dynamo_pt24_fwd.onnx": ["--data-inputs=primals_15"],
    "llama_opt_custom_backward.onnx": ["--default-dim", "2"],
    "llama_tiny_random_genai_fp16_extdata/model.onnx": [
        "--dim", "batch_size=2", "--dim", "sequence_length=8",
        "--dim", "past_sequence_length=0", "--dim", "total_sequence_length=8"],
    "mlp_ort_training_api_grad.onnx": [
        "--dim", "input-0_dim0=2", "--dim", "input-0_dim1=784", "--dim", "output-0_dim0=2"],
    "packed_attention_fp32.onnx": [
        "--dim", "batch_size=2", "--dim", "seq_len=8", "--dim", "hidden_size=12",
        "--dim", "hidden_size_x_3=36", "--dim", "token_count=16",
        "--dim", "batch_size_plus_1=3"],
    "phi4v_vision_attention.onnx": ["--default-dim", "2"],
    "phi_6layer_train_fwd_dropout_noweights.onnx": [],
    "qwen35_tiny_gqa_decoder_opset21.onnx": ["--default-dim", "2"],
    "silero_vad_16k_op15_if.onnx": ["--dim", "batch=1", "--dim", "sequence=512"],
    "synthetic_paged_decoder.onnx": ["--default-dim", "2"],
    "t5_dummy_beamsearch_ir10.onnx": ["--default-dim", "1"],
    "whisper_hf_decoder_mha_past_fp32.onnx": ["--default-dim", "2"],
}

# Generation loops are serving only (training them is an error that says so).
SERVING_ONLY = {"gpt2_tiny_sampling.onnx", "t5_dummy_beamsearch_ir10.onnx"}


def shared_models(root):
    """The models in MODELS_DIR: *.onnx, and model.onnx of a folder."""
    found = []
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry)
        if entry.endswith(".onnx") and os.path.isfile(path):
            found.append(entry)
        elif os.path.isfile(os.path.join(path, "model.onnx")):
            found.append(entry + "/model.onnx")
    return found


def main():
    tool, root = sys.argv[1], sys.argv[2]
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    env = dict(os.environ, COLUMNS=str(width))
    runs = wide = failed = 0
    unlisted = [m for m in shared_models(root) if m not in MODELS]
    for model in unlisted:
        print("%s: unlisted (add its bindings to %s)" % (model, __file__))
    for model, args in sorted(MODELS.items()):
        path = os.path.join(root, model)
        if not os.path.exists(path):
            print("%s: absent" % model)
            failed += 1
            continue
        for mode in ("infer",) if model in SERVING_ONLY else ("train", "infer"):
            runs += 1
            p = subprocess.run([tool, path, "--mode=" + mode] + args, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode != 0:
                err = p.stderr.decode("utf-8", "replace").splitlines()
                print("%s %s: FAILED (exit %d): %s" %
                      (model, mode, p.returncode, err[0] if err else ""))
                failed += 1
                continue
            lines = p.stdout.decode("utf-8").splitlines()
            widest, bad = 0, None
            for i, line in enumerate(lines, 1):
                widest = max(widest, len(line))
                if len(line) > width and bad is None:
                    bad = (i, len(line), line)
            if bad:
                wide += 1
                print("%s %s: WIDE line %d (%d columns): %s" % ((model, mode) + bad))
            else:
                print("%s %s: ok, %d lines, widest %d" % (model, mode, len(lines), widest))
    print("checked %d runs, %d wide, %d failed, %d unlisted" %
          (runs, wide, failed, len(unlisted)))
    return 1 if wide or failed or unlisted else 0


if __name__ == "__main__":
    sys.exit(main())
