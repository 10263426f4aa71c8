using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Detection;

public static partial class BoxOperations
{
    /// <summary>
    /// RoIAlign (He et al. 2017) from tensor operations, with torchvision's <c>ops.roi_align</c> semantics (checked against
    /// torchvision 0.14 to 1e-5): each region is divided into <paramref name="outputHeight"/> × <paramref name="outputWidth"/>
    /// bins, each bin averages a regular grid of bilinearly interpolated samples. Because bilinear interpolation is separable,
    /// the samples of a region form one interpolation matrix per axis (rows: output bins, columns: feature-map rows or
    /// columns, holding the summed bilinear weights of the bin's samples); the output is two batched matrix products
    /// <c>Aᵧ · F · Aₓᵀ</c>, differentiable with respect to the features, on the features' device (one host
    /// synchronisation checks the batch indices, another sizes the adaptive sampling grid).
    /// </summary>
    /// <param name="features">(N, C, H, W) feature maps, floating point.</param>
    /// <param name="rois">(K, 5) regions: batch index, then x0, y0, x1, y1 in the coordinates of the image the features were
    /// computed from (<paramref name="spatialScale"/> maps them onto the feature map).</param>
    /// <param name="outputHeight">Bins per region vertically, &gt; 0.</param>
    /// <param name="outputWidth">Bins per region horizontally, &gt; 0.</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel (1 / stride), &gt; 0. Default 1.</param>
    /// <param name="samplingRatio">Samples per bin along each axis; 0 or less takes torchvision's adaptive
    /// ceil(region size / bins) per region (one host synchronisation to size the grid). Default −1 (adaptive).</param>
    /// <param name="aligned">True (default) shifts the region by −0.5 pixel so that pixel centres line up (torchvision's
    /// <c>aligned=True</c>); false keeps the original RoIAlign, which also forces regions to at least 1 × 1.</param>
    /// <returns>(K, C, <paramref name="outputHeight"/>, <paramref name="outputWidth"/>) pooled features.</returns>
    /// <exception cref="ArgumentException">A tensor has the wrong shape, or a batch index is outside [0, N).</exception>
    public static Tensor RoiAlign(Tensor features, Tensor rois, int outputHeight, int outputWidth, double spatialScale = 1, int samplingRatio = -1, bool aligned = true)
    {
        Guard.NotNull(features);
        Guard.NotNull(rois);
        Guard.Positive(outputHeight);
        Guard.Positive(outputWidth);
        Guard.Positive(spatialScale);
        if (features.dim() != 4 || !features.is_floating_point())
            throw new ArgumentException($"Expected floating-point features of shape (N, C, H, W). Received: features of shape ({string.Join(", ", features.shape)}) and type {features.dtype}.", nameof(features));
        if (rois.dim() != 2 || rois.shape[1] != 5)
            throw new ArgumentException($"Expected regions as a tensor of shape (K, 5) holding batch index, x0, y0, x1, y1. Received: rois of shape ({string.Join(", ", rois.shape)}).", nameof(rois));
        var (n, channels, height, width) = (features.shape[0], features.shape[1], (int)features.shape[2], (int)features.shape[3]);
        var k = rois.shape[0];
        if (k == 0)
            return torch.zeros([0, channels, outputHeight, outputWidth], features.dtype, features.device);

        using var scope = torch.NewDisposeScope();
        var r = rois.to(features.dtype).to(features.device);
        var batch = r[.., 0].to(ScalarType.Int64);
        using (var low = batch.min())
        using (var high = batch.max())
        {
            if (low.item<long>() < 0 || high.item<long>() >= n)
                throw new ArgumentException($"Expected batch indices in [0, {n}) in the first column of rois. Received: indices from {low.item<long>()} to {high.item<long>()}.", nameof(rois));
        }
        var offset = aligned ? 0.5 : 0;
        var x0 = r[.., 1] * spatialScale - offset;
        var y0 = r[.., 2] * spatialScale - offset;
        var regionWidth = r[.., 3] * spatialScale - offset - x0;
        var regionHeight = r[.., 4] * spatialScale - offset - y0;
        if (!aligned)
        {
            regionWidth = regionWidth.clamp_min(1);
            regionHeight = regionHeight.clamp_min(1);
        }
        var (rowMatrix, rowSamples) = Interpolation(y0, regionHeight, outputHeight, height, samplingRatio);    // (K, OH, H), (K)
        var (columnMatrix, columnSamples) = Interpolation(x0, regionWidth, outputWidth, width, samplingRatio); // (K, OW, W), (K)
        var count = (rowSamples * columnSamples).clamp_min(1).view(k, 1, 1, 1);
        var selected = features.index_select(0, batch);                                                    // (K, C, H, W)
        var pooled = rowMatrix.unsqueeze(1).matmul(selected).matmul(columnMatrix.transpose(1, 2).unsqueeze(1));
        return (pooled / count).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One axis of RoIAlign: for each region and output bin, the summed bilinear weights of the bin's samples on each of the
    /// axis's <paramref name="size"/> positions, with torchvision's border rules (a sample beyond one pixel outside the map
    /// counts zero; one in [−1, 0] reads position 0; one at or past the last position reads the last). Also returns the number
    /// of samples per bin along this axis for each region.
    /// </summary>
    private static (Tensor Matrix, Tensor Samples) Interpolation(Tensor start, Tensor length, int bins, int size, int samplingRatio)
    {
        var k = start.shape[0];
        var bin = length / bins;                                                                             // (K)
        Tensor samples;
        int grid;
        if (samplingRatio > 0)
        {
            samples = torch.full([k], samplingRatio, start.dtype, start.device);
            grid = samplingRatio;
        }
        else
        {
            samples = bin.ceil();
            using var most = samples.max();
            grid = Math.Max(1, (int)most.item<float>());
        }
        var binIndex = torch.arange(bins, start.dtype, start.device).view(1, bins, 1);
        var sampleIndex = torch.arange(grid, start.dtype, start.device).view(1, 1, grid);
        var binSize = bin.view(k, 1, 1);
        var position = (start.view(k, 1, 1) + binIndex * binSize) + (sampleIndex + 0.5) * binSize / samples.view(k, 1, 1).clamp_min(1); // (K, bins, grid)
        var inside = position.ge(-1).logical_and(position.le(size)).logical_and(sampleIndex.lt(samples.view(k, 1, 1)));
        var clamped = position.clamp_min(0);
        var low = clamped.floor();
        var atEdge = low.ge(size - 1);
        var last = torch.full_like(low, size - 1);
        low = torch.where(atEdge, last, low);
        var high = torch.where(atEdge, last, low + 1);
        clamped = torch.where(atEdge, last, clamped);
        var toHigh = clamped - low;
        var valid = inside.to(start.dtype);
        var matrix = torch.zeros([k, bins, size], start.dtype, start.device);
        matrix.scatter_add_(2, low.to(ScalarType.Int64), (1 - toHigh) * valid);
        matrix.scatter_add_(2, high.to(ScalarType.Int64), toHigh * valid);
        return (matrix, samples);
    }
}
