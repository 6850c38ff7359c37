# Demo datasets: real faces animated into expression clips, written in the native layout of
# CK+, MUG, Oulu-CASIA or MMI for every dataset declared with `demo: true`. The .done marker
# is written last, after the layout is complete; register_dataset waits for it.


rule render_demo:
    input:
        detector=f"{RESOURCES}/models/face_detection_short_range.tflite",
        landmarks=f"{RESOURCES}/models/face_landmark.tflite",
        media=f"{RESOURCES}/media/pyfeat/provenance.csv",
    output:
        done=f"{RESOURCES}/demo/{{dataset}}.done",
        # a file only: five 1 MB sheets of rendered faces would dominate report.html
        sheet=f"{RESOURCES}/demo/{{dataset}}_expressions.png",
    log:
        f"{RESULTS}/logs/render_demo/{{dataset}}.log",
    conda:
        ENVS["faces"]
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=lambda wc: stage_settings.render_demo(config, wc.dataset),
    script:
        "../scripts/render_demo.py"
