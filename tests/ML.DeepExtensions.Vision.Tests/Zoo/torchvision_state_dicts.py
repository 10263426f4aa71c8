# Writes torchvision-state-dicts.txt: for each zoo architecture at default parameters, the state-dict entries of
# torchvision's model (key and shape, in state-dict order) without its final Linear layer, which the trainer appends.
# Run with Debian 12's python3-torchvision (0.14.1): /usr/bin/python3 torchvision_state_dicts.py > torchvision-state-dicts.txt
import torch
import torchvision.models as m

models = {
    "AlexNet": (m.alexnet, {}, "classifier.6."),
    "Vgg11": (m.vgg11, {}, "classifier.6."),
    "Vgg11 batchNorm=true": (m.vgg11_bn, {}, "classifier.6."),
    "Vgg16": (m.vgg16, {}, "classifier.6."),
    "Vgg16 batchNorm=true": (m.vgg16_bn, {}, "classifier.6."),
    "ResNet18": (m.resnet18, {}, "fc."),
    "ResNet34": (m.resnet34, {}, "fc."),
    "ResNet50": (m.resnet50, {}, "fc."),
    "EfficientNetB0": (m.efficientnet_b0, {}, "classifier.1."),
    "MobileNetV2": (m.mobilenet_v2, {}, "classifier.1."),
}
import torchvision
print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}")
for name, (factory, kwargs, head) in models.items():
    state = factory(**kwargs).state_dict()
    print(f"[{name}]")
    for key, tensor in state.items():
        if not key.startswith(head):
            print(key, "x".join(str(d) for d in tensor.shape))
