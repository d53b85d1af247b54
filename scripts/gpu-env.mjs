// Where the browser and a Vulkan driver for WebGPU come from, shared by the test and bench scripts.
// No test downloads a browser: we use an installed Chromium-based browser, and on Debian as root we
// install Debian's `chromium` (which brings SwiftShader, a CPU Vulkan driver) when none is found.
import { existsSync, readdirSync } from 'node:fs';
import { execSync } from 'node:child_process';

const BROWSER_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function isRootOnDebian() {
  return typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
}

function aptInstall(packages) {
  console.log(`[setup] installing Debian packages: ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execSync('apt-get update -qq', { stdio: 'inherit', env });
  execSync(`apt-get install -y -qq ${packages.join(' ')}`, { stdio: 'inherit', env });
}

export function findBrowser() {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`CHROME_PATH points at ${fromEnv}, which does not exist.`);
  }
  return BROWSER_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

function hasVulkanLoader() {
  try {
    return execSync('ldconfig -p', { encoding: 'utf8' }).includes('libvulkan.so.1');
  } catch {
    return true; // cannot tell (not Linux): let Dawn report it
  }
}

/** Make sure a browser and (on Linux) the Vulkan loader exist; return the environment for tests. */
export function prepareGpuEnvironment() {
  let browser = findBrowser();
  const needVulkan = process.platform === 'linux' && !hasVulkanLoader();
  if ((!browser || needVulkan) && isRootOnDebian()) {
    aptInstall([...(browser ? [] : ['chromium']), ...(needVulkan ? ['libvulkan1'] : [])]);
    browser = findBrowser();
  }
  if (!browser) {
    throw new Error(
      'No Chromium-based browser found. Install one (Debian/Ubuntu: `sudo apt-get install chromium`; ' +
        'or Google Chrome) or set CHROME_PATH to its executable. Tests never download a browser.',
    );
  }
  if (process.platform === 'linux' && !hasVulkanLoader()) {
    throw new Error('The Vulkan loader (libvulkan.so.1) is missing; WebGPU in Node needs it. Install it (Debian/Ubuntu: `sudo apt-get install libvulkan1`).');
  }
  const env = { ...process.env, CHROME_PATH: browser };
  // Node's WebGPU (Dawn) needs a Vulkan driver. Without a system one, use Chromium's SwiftShader.
  const systemIcds = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'].some((d) => existsSync(d) && readdirSync(d).length > 0);
  if (!env.VK_ICD_FILENAMES && !systemIcds && existsSync(SWIFTSHADER_ICD)) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  env.XDG_RUNTIME_DIR ??= '/tmp';
  return env;
}
