namespace NotebookTrainer.Datasets.Config;

/// <summary>
/// kohya's defaults for the dataset values that fall back through the config chain (train_util's arguments, the
/// dataset config's schema, the fine-tune metadata scripts): the one place every reader of these keys takes them from.
/// </summary>
public static class DatasetDefaults
{
    public const int Resolution = 512;
    public const int MinBucketReso = 256;
    public const int MaxBucketReso = 1024;
    public const int BucketResoSteps = 64;
    public const string CaptionExtension = ".caption";
}
