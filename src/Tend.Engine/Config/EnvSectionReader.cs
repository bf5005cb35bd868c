using System.Globalization;
using Tend.Processes;

namespace Tend.Config;

/// <summary>env: and env_file: of an app: names and values checked, env files read in order (later ones win, env: wins over all).</summary>
internal static class EnvSectionReader
{
    internal static void ReadEnv(NodeReader reader, YNode value, string field, List<KeyValuePair<string, string>> env)
    {
        if (!reader.TryMapping(value, field, "a mapping of variable names to values", out YMapping map)) return;
        var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in map.Entries)
        {
            if (keyNode is not YScalar { IsNull: false } keyScalar)
            {
                reader.Error(keyNode, field, $"expected a variable name, got {keyNode.Describe()}");
                continue;
            }
            string key = keyScalar.Value;
            string keyField = field + "." + key;
            if (seen.TryGetValue(key, out YNode? first))
            {
                reader.Error(keyNode, keyField, $"duplicate key \"{key}\"; first defined at line {first.Start.Line}");
                continue;
            }
            seen.Add(key, keyNode);
            if (!IsValidEnvName(key))
            {
                reader.Error(keyNode, keyField, $"\"{key}\" is not a valid environment variable name");
                continue;
            }
            if (reader.TryText(valueNode, keyField, out string text)) env.Add(new(key, text));
        }
    }

    internal static bool IsValidEnvName(string name) => name.Length > 0 && !name.Contains('=') && !name.Contains('\0');

    internal static void ReadEnvFileNames(NodeReader reader, YNode value, string field, List<(string, YNode)> files)
    {
        if (value is YSequence seq)
        {
            for (int i = 0; i < seq.Items.Count; i++)
            {
                if (reader.TryString(seq.Items[i], $"{field}[{i}]", out string path)) files.Add((path, seq.Items[i]));
            }
        }
        else if (reader.TryString(value, field, out string path))
        {
            files.Add((path, value));
        }
    }

    internal static void ApplyEnvFile(ConfigFileContext context, string envFile, YNode node, string field, Dictionary<string, string> env)
    {
        NodeReader reader = context.Reader;
        string fullPath = Path.GetFullPath(envFile, context.BaseDir);
        // Errors inside the env file name it the way the user can open it: relative to where
        // they pointed us at tend.yaml, not an absolute path they never typed.
        string display = Path.IsPathRooted(envFile) ? envFile : Path.Join(context.DisplayDir, envFile);
        string text;
        try
        {
            // A FIFO would hang the load and /dev/zero would never end: a bounded regular file only.
            if (Directory.Exists(fullPath) || (File.Exists(fullPath) && !IsRegularFile(fullPath)))
            {
                reader.Error(node, field, $"env file \"{display}\" is not a regular file");
                return;
            }
            if (File.Exists(fullPath) && new FileInfo(fullPath).Length is var length && length > Limits.MaxEnvFileBytes)
            {
                reader.Error(node, field, $"env file \"{display}\" is {length / 1024} KiB; at most {Limits.MaxEnvFileBytes / 1024} KiB is read");
                return;
            }
            text = File.ReadAllText(fullPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            reader.Error(node, field, $"env file \"{display}\" not found");
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reader.Error(node, field, $"cannot read env file \"{display}\": {e.Message}");
            return;
        }

        var problems = new List<DotEnv.Problem>();
        foreach (var (key, value) in DotEnv.Parse(text, problems)) env[key] = value;
        foreach (var problem in problems)
        {
            reader.Errors.Add(new ConfigError(display, problem.Line, problem.Column, field, problem.Message));
        }
    }

    /// <summary>A regular file (a symlink to one is one).</summary>
    internal static bool IsRegularFile(string path) => FileStatus.TryOf(path, followLinks: true, out FileStatus s) && s.IsRegular;
}
