// https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface FtVmConfig extends cdktf.TerraformMetaArguments {
  /**
  * "kvm", "tcg", or "auto" (default): what a test boot on the host found to work (the orbit_host probe, cached on the host). "auto" and the accelerator it found are the same; only a switch to another one is a change. Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#accelerator FtVm#accelerator}
  */
  readonly accelerator?: string;
  /**
  * Longest time between checkpoints while the two guests' outputs agree (QEMU x-checkpoint-delay), in ms. Default 2000. A differing output forces a checkpoint at once. Changes apply to the running pair.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#checkpoint_delay_ms FtVm#checkpoint_delay_ms}
  */
  readonly checkpointDelayMs?: number;
  /**
  * QEMU CPU model. Default "qemu64", which runs under TCG and KVM and migrates between any x86 hosts. Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#cpu_model FtVm#cpu_model}
  */
  readonly cpuModel?: string;
  /**
  * "automatic": the failover monitor (agents on the pair's hosts, installed by apply; needs the provider's etcd and monitor blocks) fails over, fences and re-protects on its own. "manual": nothing watches the pair; an operator fails over with `orbit-ft`. Default "automatic". Changes in place.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#failover FtVm#failover}
  */
  readonly failover?: string;
  /**
  * Failover monitor: how long a side that lost its lease has to stop its guest, in ms. Default 800.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#fencing_deadline_ms FtVm#fencing_deadline_ms}
  */
  readonly fencingDeadlineMs?: number;
  /**
  * Failover monitor: how often the active side renews its lease and the sides heartbeat each other, in ms. Default 200.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#heartbeat_interval_ms FtVm#heartbeat_interval_ms}
  */
  readonly heartbeatIntervalMs?: number;
  /**
  * Failover monitor: heartbeats (or lease renewals) missed in a row before a side acts. Default 3.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#heartbeat_misses FtVm#heartbeat_misses}
  */
  readonly heartbeatMisses?: number;
  /**
  * Direct kernel boot: the initramfs on the host. Needs kernel_path. Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#initrd_path FtVm#initrd_path}
  */
  readonly initrdPath?: string;
  /**
  * Direct kernel boot: the kernel command line. Needs kernel_path. Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#kernel_cmdline FtVm#kernel_cmdline}
  */
  readonly kernelCmdline?: string;
  /**
  * Direct kernel boot: the kernel image on the host (every host the VM may run on). Without it the VM boots from its first disk. Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#kernel_path FtVm#kernel_path}
  */
  readonly kernelPath?: string;
  /**
  * Failover monitor: lifetime of the active side's lease in etcd, in ms (whole seconds, at least 2000). Must exceed heartbeat_interval_ms x heartbeat_misses + fencing_deadline_ms, so a side cut off from etcd has stopped its guest before the other may take over. Default 2000.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#lease_ttl_ms FtVm#lease_ttl_ms}
  */
  readonly leaseTtlMs?: number;
  /**
  * QEMU machine type. Default "pc". Hosts the VM moves between need the same QEMU version, or a versioned type such as "pc-i440fx-7.2". Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#machine FtVm#machine}
  */
  readonly machine?: string;
  /**
  * Guest memory in MiB. Default 512. The secondary host needs about twice this (replica plus checkpoint buffer). Changing it restarts the pair on the same disks (a planned restart, as for vcpus).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#memory_mib FtVm#memory_mib}
  */
  readonly memoryMib?: number;
  /**
  * VM name: 1-40 of a-z, 0-9 and "-", starting with a letter. Unique among the hosts of the provider. A rename is refused: the name names the VM's processes and disks on its hosts.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#name FtVm#name}
  */
  readonly name: string;
  /**
  * The host the pair is built with as primary (runs the guest clients talk to). After a failover the guest runs elsewhere (active_host); that is not drift. Changing it moves the pair's side on the old host to the new one while the guest runs on: a re-protection onto the new host, after a planned switch-over when the guest runs on the old one (clients see one failover's gap); one host per apply, never a new pair.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#primary_host FtVm#primary_host}
  */
  readonly primaryHost: string;
  /**
  * The host of the lock-stepped replica. Must differ from primary_host; ideally another failure domain (site). Changing it moves the pair's side on the old host to the new one while the guest runs on: a re-protection onto the new host, after a planned switch-over when the guest runs on the old one (clients see one failover's gap); one host per apply, never a new pair.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#secondary_host FtVm#secondary_host}
  */
  readonly secondaryHost: string;
  /**
  * Hosts the monitor may re-protect the pair onto after a failover, in order of preference, after the pair's own two hosts (a host whose guest died is used again once its agent reports it healthy). Agents are installed on them too. Default: none. Changes in place.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#spare_hosts FtVm#spare_hosts}
  */
  readonly spareHosts?: string[];
  /**
  * How long the guest gets to power off after the ACPI request when the pair is restarted for a change, before QEMU is told to quit. Default 30000; 0 skips the request.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#stop_timeout_ms FtVm#stop_timeout_ms}
  */
  readonly stopTimeoutMs?: number;
  /**
  * Virtual CPUs. Default 1. Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#vcpus FtVm#vcpus}
  */
  readonly vcpus?: number;
  /**
  * cloud_init block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#cloud_init FtVm#cloud_init}
  */
  readonly cloudInit?: FtVmCloudInit;
  /**
  * disk block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#disk FtVm#disk}
  */
  readonly disk?: FtVmDisk[] | cdktf.IResolvable;
  /**
  * network block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#network FtVm#network}
  */
  readonly network: FtVmNetwork;
}
export interface FtVmCloudInit {
  /**
  * Extra meta-data (YAML), e.g. "local-hostname: web-1". Default: local-hostname set to the VM name. instance-id is Orbit's (derived from the content) and may not be set here.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#meta_data FtVm#meta_data}
  */
  readonly metaData?: string;
  /**
  * Network configuration, version 1 or 2 YAML (e.g. a static address). Default: none, so the image's own default applies (usually DHCP on the first NIC).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#network_config FtVm#network_config}
  */
  readonly networkConfig?: string;
  /**
  * user-data: a cloud-config document ("#cloud-config" first) or a script. Sensitive: hidden in plans and never logged; it is kept in the terraform state (encrypt your state backend) and on the host in a mode-0600 ISO that destroy removes. For secrets that must not be in the state, give user_data_wo instead. Exactly one of the two.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#user_data FtVm#user_data}
  */
  readonly userData?: string;
  /**
  * user-data as a write-only value (terraform >= 1.11, e.g. from an ephemeral resource): never stored in the plan or the state, only on the host in the mode-0600 ISO. Terraform cannot see its edits: change user_data_wo_version to apply a new one. Exactly one of user_data and user_data_wo.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#user_data_wo FtVm#user_data_wo}
  */
  readonly userDataWo?: string;
  /**
  * Required with user_data_wo: any whole number, changed whenever user_data_wo changes (the seed is rebuilt with a new instance id when it does).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#user_data_wo_version FtVm#user_data_wo_version}
  */
  readonly userDataWoVersion?: number;
}

export function ftVmCloudInitToTerraform(struct?: FtVmCloudInitOutputReference | FtVmCloudInit): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    meta_data: cdktf.stringToTerraform(struct!.metaData),
    network_config: cdktf.stringToTerraform(struct!.networkConfig),
    user_data: cdktf.stringToTerraform(struct!.userData),
    user_data_wo: cdktf.stringToTerraform(struct!.userDataWo),
    user_data_wo_version: cdktf.numberToTerraform(struct!.userDataWoVersion),
  }
}


export function ftVmCloudInitToHclTerraform(struct?: FtVmCloudInitOutputReference | FtVmCloudInit): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    meta_data: {
      value: cdktf.stringToHclTerraform(struct!.metaData),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    network_config: {
      value: cdktf.stringToHclTerraform(struct!.networkConfig),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data: {
      value: cdktf.stringToHclTerraform(struct!.userData),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data_wo: {
      value: cdktf.stringToHclTerraform(struct!.userDataWo),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data_wo_version: {
      value: cdktf.numberToHclTerraform(struct!.userDataWoVersion),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class FtVmCloudInitOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): FtVmCloudInit | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._metaData !== undefined) {
      hasAnyValues = true;
      internalValueResult.metaData = this._metaData;
    }
    if (this._networkConfig !== undefined) {
      hasAnyValues = true;
      internalValueResult.networkConfig = this._networkConfig;
    }
    if (this._userData !== undefined) {
      hasAnyValues = true;
      internalValueResult.userData = this._userData;
    }
    if (this._userDataWo !== undefined) {
      hasAnyValues = true;
      internalValueResult.userDataWo = this._userDataWo;
    }
    if (this._userDataWoVersion !== undefined) {
      hasAnyValues = true;
      internalValueResult.userDataWoVersion = this._userDataWoVersion;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: FtVmCloudInit | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._metaData = undefined;
      this._networkConfig = undefined;
      this._userData = undefined;
      this._userDataWo = undefined;
      this._userDataWoVersion = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._metaData = value.metaData;
      this._networkConfig = value.networkConfig;
      this._userData = value.userData;
      this._userDataWo = value.userDataWo;
      this._userDataWoVersion = value.userDataWoVersion;
    }
  }

  // instance_id - computed: true, optional: false, required: false
  public get instanceId() {
    return this.getStringAttribute('instance_id');
  }

  // meta_data - computed: false, optional: true, required: false
  private _metaData?: string; 
  public get metaData() {
    return this.getStringAttribute('meta_data');
  }
  public set metaData(value: string) {
    this._metaData = value;
  }
  public resetMetaData() {
    this._metaData = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get metaDataInput() {
    return this._metaData;
  }

  // network_config - computed: false, optional: true, required: false
  private _networkConfig?: string; 
  public get networkConfig() {
    return this.getStringAttribute('network_config');
  }
  public set networkConfig(value: string) {
    this._networkConfig = value;
  }
  public resetNetworkConfig() {
    this._networkConfig = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get networkConfigInput() {
    return this._networkConfig;
  }

  // user_data - computed: false, optional: true, required: false
  private _userData?: string; 
  public get userData() {
    return this.getStringAttribute('user_data');
  }
  public set userData(value: string) {
    this._userData = value;
  }
  public resetUserData() {
    this._userData = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataInput() {
    return this._userData;
  }

  // user_data_wo - computed: false, optional: true, required: false
  private _userDataWo?: string; 
  public get userDataWo() {
    return this.getStringAttribute('user_data_wo');
  }
  public set userDataWo(value: string) {
    this._userDataWo = value;
  }
  public resetUserDataWo() {
    this._userDataWo = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataWoInput() {
    return this._userDataWo;
  }

  // user_data_wo_version - computed: false, optional: true, required: false
  private _userDataWoVersion?: number; 
  public get userDataWoVersion() {
    return this.getNumberAttribute('user_data_wo_version');
  }
  public set userDataWoVersion(value: number) {
    this._userDataWoVersion = value;
  }
  public resetUserDataWoVersion() {
    this._userDataWoVersion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataWoVersionInput() {
    return this._userDataWoVersion;
  }
}
export interface FtVmDisk {
  /**
  * Image format: "qcow2" (default, allocated as written) or "raw". Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#format FtVm#format}
  */
  readonly format?: string;
  /**
  * Start the disk from this image: `orbit_image.NAME.path` (the image must be placed on both hosts of the pair and every spare; checked at plan time once the image exists, else before anything starts). The disk is a qcow2 overlay on the read-only image, grown to size_mib (at least the image's virtual size; the guest grows its filesystem, as cloud images do on first boot). Fixed once the disk exists: a change is refused at plan time.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#image FtVm#image}
  */
  readonly image?: string;
  /**
  * Virtual size in MiB. Changing it restarts the pair on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms, and the pair is rebuilt on the active host's disks).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#size_mib FtVm#size_mib}
  */
  readonly sizeMib: number;
}

export function ftVmDiskToTerraform(struct?: FtVmDisk | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    format: cdktf.stringToTerraform(struct!.format),
    image: cdktf.stringToTerraform(struct!.image),
    size_mib: cdktf.numberToTerraform(struct!.sizeMib),
  }
}


export function ftVmDiskToHclTerraform(struct?: FtVmDisk | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    format: {
      value: cdktf.stringToHclTerraform(struct!.format),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    image: {
      value: cdktf.stringToHclTerraform(struct!.image),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    size_mib: {
      value: cdktf.numberToHclTerraform(struct!.sizeMib),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class FtVmDiskOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): FtVmDisk | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._format !== undefined) {
      hasAnyValues = true;
      internalValueResult.format = this._format;
    }
    if (this._image !== undefined) {
      hasAnyValues = true;
      internalValueResult.image = this._image;
    }
    if (this._sizeMib !== undefined) {
      hasAnyValues = true;
      internalValueResult.sizeMib = this._sizeMib;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: FtVmDisk | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._format = undefined;
      this._image = undefined;
      this._sizeMib = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._format = value.format;
      this._image = value.image;
      this._sizeMib = value.sizeMib;
    }
  }

  // format - computed: true, optional: true, required: false
  private _format?: string; 
  public get format() {
    return this.getStringAttribute('format');
  }
  public set format(value: string) {
    this._format = value;
  }
  public resetFormat() {
    this._format = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get formatInput() {
    return this._format;
  }

  // image - computed: false, optional: true, required: false
  private _image?: string; 
  public get image() {
    return this.getStringAttribute('image');
  }
  public set image(value: string) {
    this._image = value;
  }
  public resetImage() {
    this._image = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get imageInput() {
    return this._image;
  }

  // path - computed: true, optional: false, required: false
  public get path() {
    return this.getStringAttribute('path');
  }

  // size_mib - computed: false, optional: false, required: true
  private _sizeMib?: number; 
  public get sizeMib() {
    return this.getNumberAttribute('size_mib');
  }
  public set sizeMib(value: number) {
    this._sizeMib = value;
  }
  // Temporarily expose input value. Use with caution.
  public get sizeMibInput() {
    return this._sizeMib;
  }
}

export class FtVmDiskList extends cdktf.ComplexList {
  public internalValue? : FtVmDisk[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string, protected wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): FtVmDiskOutputReference {
    return new FtVmDiskOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}
export interface FtVmNetwork {
  /**
  * The host bridge the NIC's tap joins, e.g. "vmbr0".
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#bridge FtVm#bridge}
  */
  readonly bridge: string;
  /**
  * MAC address. Default: 52:54:00 followed by three bytes derived from the VM name and the NIC index (stable across plans).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#mac FtVm#mac}
  */
  readonly mac?: string;
  /**
  * NIC model: "virtio-net-pci" (default), "e1000" or "rtl8139".
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#model FtVm#model}
  */
  readonly model?: string;
}

export function ftVmNetworkToTerraform(struct?: FtVmNetworkOutputReference | FtVmNetwork): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    bridge: cdktf.stringToTerraform(struct!.bridge),
    mac: cdktf.stringToTerraform(struct!.mac),
    model: cdktf.stringToTerraform(struct!.model),
  }
}


export function ftVmNetworkToHclTerraform(struct?: FtVmNetworkOutputReference | FtVmNetwork): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    bridge: {
      value: cdktf.stringToHclTerraform(struct!.bridge),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    mac: {
      value: cdktf.stringToHclTerraform(struct!.mac),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    model: {
      value: cdktf.stringToHclTerraform(struct!.model),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class FtVmNetworkOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): FtVmNetwork | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._bridge !== undefined) {
      hasAnyValues = true;
      internalValueResult.bridge = this._bridge;
    }
    if (this._mac !== undefined) {
      hasAnyValues = true;
      internalValueResult.mac = this._mac;
    }
    if (this._model !== undefined) {
      hasAnyValues = true;
      internalValueResult.model = this._model;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: FtVmNetwork | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._bridge = undefined;
      this._mac = undefined;
      this._model = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._bridge = value.bridge;
      this._mac = value.mac;
      this._model = value.model;
    }
  }

  // bridge - computed: false, optional: false, required: true
  private _bridge?: string; 
  public get bridge() {
    return this.getStringAttribute('bridge');
  }
  public set bridge(value: string) {
    this._bridge = value;
  }
  // Temporarily expose input value. Use with caution.
  public get bridgeInput() {
    return this._bridge;
  }

  // mac - computed: true, optional: true, required: false
  private _mac?: string; 
  public get mac() {
    return this.getStringAttribute('mac');
  }
  public set mac(value: string) {
    this._mac = value;
  }
  public resetMac() {
    this._mac = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get macInput() {
    return this._mac;
  }

  // model - computed: true, optional: true, required: false
  private _model?: string; 
  public get model() {
    return this.getStringAttribute('model');
  }
  public set model(value: string) {
    this._model = value;
  }
  public resetModel() {
    this._model = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get modelInput() {
    return this._model;
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm orbit_ft_vm}
*/
export class FtVm extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "orbit_ft_vm";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a FtVm resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the FtVm to import
  * @param importFromId The id of the existing FtVm that should be imported. Refer to the {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the FtVm to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "orbit_ft_vm", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/ft_vm orbit_ft_vm} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options FtVmConfig
  */
  public constructor(scope: Construct, id: string, config: FtVmConfig) {
    super(scope, id, {
      terraformResourceType: 'orbit_ft_vm',
      terraformGeneratorMetadata: {
        providerName: 'orbit',
        providerVersion: '0.1.0'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._accelerator = config.accelerator;
    this._checkpointDelayMs = config.checkpointDelayMs;
    this._cpuModel = config.cpuModel;
    this._failover = config.failover;
    this._fencingDeadlineMs = config.fencingDeadlineMs;
    this._heartbeatIntervalMs = config.heartbeatIntervalMs;
    this._heartbeatMisses = config.heartbeatMisses;
    this._initrdPath = config.initrdPath;
    this._kernelCmdline = config.kernelCmdline;
    this._kernelPath = config.kernelPath;
    this._leaseTtlMs = config.leaseTtlMs;
    this._machine = config.machine;
    this._memoryMib = config.memoryMib;
    this._name = config.name;
    this._primaryHost = config.primaryHost;
    this._secondaryHost = config.secondaryHost;
    this._spareHosts = config.spareHosts;
    this._stopTimeoutMs = config.stopTimeoutMs;
    this._vcpus = config.vcpus;
    this._cloudInit.internalValue = config.cloudInit;
    this._disk.internalValue = config.disk;
    this._network.internalValue = config.network;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // accelerator - computed: true, optional: true, required: false
  private _accelerator?: string; 
  public get accelerator() {
    return this.getStringAttribute('accelerator');
  }
  public set accelerator(value: string) {
    this._accelerator = value;
  }
  public resetAccelerator() {
    this._accelerator = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get acceleratorInput() {
    return this._accelerator;
  }

  // accelerator_in_use - computed: true, optional: false, required: false
  public get acceleratorInUse() {
    return this.getStringAttribute('accelerator_in_use');
  }

  // active_host - computed: true, optional: false, required: false
  public get activeHost() {
    return this.getStringAttribute('active_host');
  }

  // agent_release - computed: true, optional: false, required: false
  public get agentRelease() {
    return this.getStringAttribute('agent_release');
  }

  // checkpoint_count - computed: true, optional: false, required: false
  public get checkpointCount() {
    return this.getNumberAttribute('checkpoint_count');
  }

  // checkpoint_delay_ms - computed: true, optional: true, required: false
  private _checkpointDelayMs?: number; 
  public get checkpointDelayMs() {
    return this.getNumberAttribute('checkpoint_delay_ms');
  }
  public set checkpointDelayMs(value: number) {
    this._checkpointDelayMs = value;
  }
  public resetCheckpointDelayMs() {
    this._checkpointDelayMs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get checkpointDelayMsInput() {
    return this._checkpointDelayMs;
  }

  // cpu_model - computed: true, optional: true, required: false
  private _cpuModel?: string; 
  public get cpuModel() {
    return this.getStringAttribute('cpu_model');
  }
  public set cpuModel(value: string) {
    this._cpuModel = value;
  }
  public resetCpuModel() {
    this._cpuModel = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get cpuModelInput() {
    return this._cpuModel;
  }

  // failover - computed: true, optional: true, required: false
  private _failover?: string; 
  public get failover() {
    return this.getStringAttribute('failover');
  }
  public set failover(value: string) {
    this._failover = value;
  }
  public resetFailover() {
    this._failover = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get failoverInput() {
    return this._failover;
  }

  // failover_count - computed: true, optional: false, required: false
  public get failoverCount() {
    return this.getNumberAttribute('failover_count');
  }

  // fencing_deadline_ms - computed: true, optional: true, required: false
  private _fencingDeadlineMs?: number; 
  public get fencingDeadlineMs() {
    return this.getNumberAttribute('fencing_deadline_ms');
  }
  public set fencingDeadlineMs(value: number) {
    this._fencingDeadlineMs = value;
  }
  public resetFencingDeadlineMs() {
    this._fencingDeadlineMs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get fencingDeadlineMsInput() {
    return this._fencingDeadlineMs;
  }

  // heartbeat_interval_ms - computed: true, optional: true, required: false
  private _heartbeatIntervalMs?: number; 
  public get heartbeatIntervalMs() {
    return this.getNumberAttribute('heartbeat_interval_ms');
  }
  public set heartbeatIntervalMs(value: number) {
    this._heartbeatIntervalMs = value;
  }
  public resetHeartbeatIntervalMs() {
    this._heartbeatIntervalMs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get heartbeatIntervalMsInput() {
    return this._heartbeatIntervalMs;
  }

  // heartbeat_misses - computed: true, optional: true, required: false
  private _heartbeatMisses?: number; 
  public get heartbeatMisses() {
    return this.getNumberAttribute('heartbeat_misses');
  }
  public set heartbeatMisses(value: number) {
    this._heartbeatMisses = value;
  }
  public resetHeartbeatMisses() {
    this._heartbeatMisses = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get heartbeatMissesInput() {
    return this._heartbeatMisses;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // initrd_path - computed: false, optional: true, required: false
  private _initrdPath?: string; 
  public get initrdPath() {
    return this.getStringAttribute('initrd_path');
  }
  public set initrdPath(value: string) {
    this._initrdPath = value;
  }
  public resetInitrdPath() {
    this._initrdPath = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get initrdPathInput() {
    return this._initrdPath;
  }

  // kernel_cmdline - computed: false, optional: true, required: false
  private _kernelCmdline?: string; 
  public get kernelCmdline() {
    return this.getStringAttribute('kernel_cmdline');
  }
  public set kernelCmdline(value: string) {
    this._kernelCmdline = value;
  }
  public resetKernelCmdline() {
    this._kernelCmdline = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get kernelCmdlineInput() {
    return this._kernelCmdline;
  }

  // kernel_path - computed: false, optional: true, required: false
  private _kernelPath?: string; 
  public get kernelPath() {
    return this.getStringAttribute('kernel_path');
  }
  public set kernelPath(value: string) {
    this._kernelPath = value;
  }
  public resetKernelPath() {
    this._kernelPath = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get kernelPathInput() {
    return this._kernelPath;
  }

  // last_checkpoint_pause_ms - computed: true, optional: false, required: false
  public get lastCheckpointPauseMs() {
    return this.getNumberAttribute('last_checkpoint_pause_ms');
  }

  // last_failover - computed: true, optional: false, required: false
  public get lastFailover() {
    return this.getStringAttribute('last_failover');
  }

  // lease_ttl_ms - computed: true, optional: true, required: false
  private _leaseTtlMs?: number; 
  public get leaseTtlMs() {
    return this.getNumberAttribute('lease_ttl_ms');
  }
  public set leaseTtlMs(value: number) {
    this._leaseTtlMs = value;
  }
  public resetLeaseTtlMs() {
    this._leaseTtlMs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get leaseTtlMsInput() {
    return this._leaseTtlMs;
  }

  // machine - computed: true, optional: true, required: false
  private _machine?: string; 
  public get machine() {
    return this.getStringAttribute('machine');
  }
  public set machine(value: string) {
    this._machine = value;
  }
  public resetMachine() {
    this._machine = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get machineInput() {
    return this._machine;
  }

  // memory_mib - computed: true, optional: true, required: false
  private _memoryMib?: number; 
  public get memoryMib() {
    return this.getNumberAttribute('memory_mib');
  }
  public set memoryMib(value: number) {
    this._memoryMib = value;
  }
  public resetMemoryMib() {
    this._memoryMib = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get memoryMibInput() {
    return this._memoryMib;
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // primary_host - computed: false, optional: false, required: true
  private _primaryHost?: string; 
  public get primaryHost() {
    return this.getStringAttribute('primary_host');
  }
  public set primaryHost(value: string) {
    this._primaryHost = value;
  }
  // Temporarily expose input value. Use with caution.
  public get primaryHostInput() {
    return this._primaryHost;
  }

  // protection - computed: true, optional: false, required: false
  public get protection() {
    return this.getStringAttribute('protection');
  }

  // secondary_host - computed: false, optional: false, required: true
  private _secondaryHost?: string; 
  public get secondaryHost() {
    return this.getStringAttribute('secondary_host');
  }
  public set secondaryHost(value: string) {
    this._secondaryHost = value;
  }
  // Temporarily expose input value. Use with caution.
  public get secondaryHostInput() {
    return this._secondaryHost;
  }

  // spare_hosts - computed: false, optional: true, required: false
  private _spareHosts?: string[]; 
  public get spareHosts() {
    return this.getListAttribute('spare_hosts');
  }
  public set spareHosts(value: string[]) {
    this._spareHosts = value;
  }
  public resetSpareHosts() {
    this._spareHosts = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get spareHostsInput() {
    return this._spareHosts;
  }

  // standby_host - computed: true, optional: false, required: false
  public get standbyHost() {
    return this.getStringAttribute('standby_host');
  }

  // status - computed: true, optional: false, required: false
  public get status() {
    return this.getStringAttribute('status');
  }

  // stop_timeout_ms - computed: true, optional: true, required: false
  private _stopTimeoutMs?: number; 
  public get stopTimeoutMs() {
    return this.getNumberAttribute('stop_timeout_ms');
  }
  public set stopTimeoutMs(value: number) {
    this._stopTimeoutMs = value;
  }
  public resetStopTimeoutMs() {
    this._stopTimeoutMs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get stopTimeoutMsInput() {
    return this._stopTimeoutMs;
  }

  // vcpus - computed: true, optional: true, required: false
  private _vcpus?: number; 
  public get vcpus() {
    return this.getNumberAttribute('vcpus');
  }
  public set vcpus(value: number) {
    this._vcpus = value;
  }
  public resetVcpus() {
    this._vcpus = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get vcpusInput() {
    return this._vcpus;
  }

  // worst_case_recovery_ms - computed: true, optional: false, required: false
  public get worstCaseRecoveryMs() {
    return this.getNumberAttribute('worst_case_recovery_ms');
  }

  // cloud_init - computed: false, optional: true, required: false
  private _cloudInit = new FtVmCloudInitOutputReference(this, "cloud_init");
  public get cloudInit() {
    return this._cloudInit;
  }
  public putCloudInit(value: FtVmCloudInit) {
    this._cloudInit.internalValue = value;
  }
  public resetCloudInit() {
    this._cloudInit.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get cloudInitInput() {
    return this._cloudInit.internalValue;
  }

  // disk - computed: false, optional: true, required: false
  private _disk = new FtVmDiskList(this, "disk", false);
  public get disk() {
    return this._disk;
  }
  public putDisk(value: FtVmDisk[] | cdktf.IResolvable) {
    this._disk.internalValue = value;
  }
  public resetDisk() {
    this._disk.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get diskInput() {
    return this._disk.internalValue;
  }

  // network - computed: false, optional: false, required: true
  private _network = new FtVmNetworkOutputReference(this, "network");
  public get network() {
    return this._network;
  }
  public putNetwork(value: FtVmNetwork) {
    this._network.internalValue = value;
  }
  // Temporarily expose input value. Use with caution.
  public get networkInput() {
    return this._network.internalValue;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      accelerator: cdktf.stringToTerraform(this._accelerator),
      checkpoint_delay_ms: cdktf.numberToTerraform(this._checkpointDelayMs),
      cpu_model: cdktf.stringToTerraform(this._cpuModel),
      failover: cdktf.stringToTerraform(this._failover),
      fencing_deadline_ms: cdktf.numberToTerraform(this._fencingDeadlineMs),
      heartbeat_interval_ms: cdktf.numberToTerraform(this._heartbeatIntervalMs),
      heartbeat_misses: cdktf.numberToTerraform(this._heartbeatMisses),
      initrd_path: cdktf.stringToTerraform(this._initrdPath),
      kernel_cmdline: cdktf.stringToTerraform(this._kernelCmdline),
      kernel_path: cdktf.stringToTerraform(this._kernelPath),
      lease_ttl_ms: cdktf.numberToTerraform(this._leaseTtlMs),
      machine: cdktf.stringToTerraform(this._machine),
      memory_mib: cdktf.numberToTerraform(this._memoryMib),
      name: cdktf.stringToTerraform(this._name),
      primary_host: cdktf.stringToTerraform(this._primaryHost),
      secondary_host: cdktf.stringToTerraform(this._secondaryHost),
      spare_hosts: cdktf.listMapper(cdktf.stringToTerraform, false)(this._spareHosts),
      stop_timeout_ms: cdktf.numberToTerraform(this._stopTimeoutMs),
      vcpus: cdktf.numberToTerraform(this._vcpus),
      cloud_init: ftVmCloudInitToTerraform(this._cloudInit.internalValue),
      disk: cdktf.listMapper(ftVmDiskToTerraform, true)(this._disk.internalValue),
      network: ftVmNetworkToTerraform(this._network.internalValue),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      accelerator: {
        value: cdktf.stringToHclTerraform(this._accelerator),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      checkpoint_delay_ms: {
        value: cdktf.numberToHclTerraform(this._checkpointDelayMs),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      cpu_model: {
        value: cdktf.stringToHclTerraform(this._cpuModel),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      failover: {
        value: cdktf.stringToHclTerraform(this._failover),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      fencing_deadline_ms: {
        value: cdktf.numberToHclTerraform(this._fencingDeadlineMs),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      heartbeat_interval_ms: {
        value: cdktf.numberToHclTerraform(this._heartbeatIntervalMs),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      heartbeat_misses: {
        value: cdktf.numberToHclTerraform(this._heartbeatMisses),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      initrd_path: {
        value: cdktf.stringToHclTerraform(this._initrdPath),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      kernel_cmdline: {
        value: cdktf.stringToHclTerraform(this._kernelCmdline),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      kernel_path: {
        value: cdktf.stringToHclTerraform(this._kernelPath),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      lease_ttl_ms: {
        value: cdktf.numberToHclTerraform(this._leaseTtlMs),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      machine: {
        value: cdktf.stringToHclTerraform(this._machine),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      memory_mib: {
        value: cdktf.numberToHclTerraform(this._memoryMib),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      primary_host: {
        value: cdktf.stringToHclTerraform(this._primaryHost),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      secondary_host: {
        value: cdktf.stringToHclTerraform(this._secondaryHost),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      spare_hosts: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._spareHosts),
        isBlock: false,
        type: "list",
        storageClassType: "stringList",
      },
      stop_timeout_ms: {
        value: cdktf.numberToHclTerraform(this._stopTimeoutMs),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      vcpus: {
        value: cdktf.numberToHclTerraform(this._vcpus),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      cloud_init: {
        value: ftVmCloudInitToHclTerraform(this._cloudInit.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "FtVmCloudInitList",
      },
      disk: {
        value: cdktf.listMapperHcl(ftVmDiskToHclTerraform, true)(this._disk.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "FtVmDiskList",
      },
      network: {
        value: ftVmNetworkToHclTerraform(this._network.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "FtVmNetworkList",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
