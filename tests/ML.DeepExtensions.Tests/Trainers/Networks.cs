using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Tests.Trainers;

internal static class TestNetworks
{
    /// <summary>A small CNN for 8×8 digits stored as 64-value vectors.</summary>
    public static Network DigitsCnn => Network.Create()
        .Reshape(1, 8, 8)
        .Conv2d(32, 3, padding: 1).ReLU()
        .Conv2d(32, 3, padding: 1).ReLU().MaxPool2d(2)
        .Flatten().Dense(64).ReLU().Dropout(0.2);
}
