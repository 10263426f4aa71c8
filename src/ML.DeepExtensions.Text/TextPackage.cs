namespace ML.DeepExtensions.Text;

// Package skeleton: content arrives with issue 4.
internal static class TextPackage
{
}
