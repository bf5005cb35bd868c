using System.IO.MemoryMappedFiles;
using Tend.Processes;

namespace Tend.Tests.Processes;

public sealed class WorkingSetTests : IDisposable
{
    private const int Size = 4 * 1024 * 1024;
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"tend-workingset-{Guid.NewGuid():N}");

    public WorkingSetTests()
    {
        var bytes = new byte[Size];
        new Random(15).NextBytes(bytes);
        File.WriteAllBytes(_file, bytes);
    }

    public void Dispose() => File.Delete(_file);

    private static long Checksum(MemoryMappedViewAccessor view)
    {
        long sum = 0;
        for (long at = 0; at < Size; at += 512) sum = sum * 31 + view.ReadByte(at);
        return sum;
    }

    /// <summary>Resident KiB of this process's mappings of <paramref name="path"/>, from /proc/self/smaps.</summary>
    private static long ResidentKiB(string path)
    {
        long total = 0;
        bool ours = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            if (line.Length > 0 && Uri.IsHexDigit(line[0]) && line.Contains('-'))
                ours = line.EndsWith(path, StringComparison.Ordinal);
            else if (ours && line.StartsWith("Rss:", StringComparison.Ordinal))
                total += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        return total;
    }

    [Fact]
    public void Trim_LetsGoOfReadOnlyFilePages_WhichReadTheSameAfterwards()
    {
        using var map = MemoryMappedFile.CreateFromFile(_file, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, Size, MemoryMappedFileAccess.Read);
        long sum = Checksum(view);
        Assert.True(ResidentKiB(_file) >= Size / 1024 / 2, $"the read mapping is not resident: {ResidentKiB(_file)} KiB");
        Assert.Contains(WorkingSet.ReadOnlyFileMappings(), m => m.Path == _file && m.ResidentKiB > 0);

        WorkingSetTrim trim = WorkingSet.Trim();

        Assert.Equal(0, ResidentKiB(_file));
        Assert.True(trim.FilePages >= Size / Environment.SystemPageSize, $"{trim.FilePages} file pages let go");
        Assert.True(trim.Before > 0 && trim.After > 0);
        Assert.Equal(sum, Checksum(view));
        Assert.True(ResidentKiB(_file) > 0, "reading again maps the pages back");
    }

    [Fact]
    public void Trim_NeverDropsAWrittenPrivateCopy()
    {
        // MAP_PRIVATE, written: the written pages exist only in this process. Dropping them would
        // silently give back the file's bytes.
        using var map = MemoryMappedFile.CreateFromFile(_file, FileMode.Open, null, 0, MemoryMappedFileAccess.CopyOnWrite);
        using var view = map.CreateViewAccessor(0, Size, MemoryMappedFileAccess.CopyOnWrite);
        for (long at = 0; at < Size; at += 4096) view.Write(at, (byte)0xAB);
        Assert.DoesNotContain(WorkingSet.ReadOnlyFileMappings(), m => m.Path == _file);

        WorkingSet.Trim();

        for (long at = 0; at < Size; at += 4096) Assert.Equal(0xAB, view.ReadByte(at));
    }
}
